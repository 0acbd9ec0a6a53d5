import v8 from 'node:v8';

/**
 * V8 flags for the standalone server (a host that embeds Duet owns its process and can pass the
 * same flag to node).
 *
 * --no-allocation-site-pretenuring: V8 starts allocating an allocation site's objects straight in
 * the old generation once most of them survive a young-generation collection. Query results are
 * in flight at almost every collection, so the driver's row objects and dates were "pretenured";
 * dead rows in the old generation then kept the young strings they point to alive through every
 * following collection, which made each one long. Without pretenuring the rows die young
 * (docs/performance.md, "Garbage collection").
 */
export function tuneGarbageCollector(): void {
  v8.setFlagsFromString('--no-allocation-site-pretenuring');
}
