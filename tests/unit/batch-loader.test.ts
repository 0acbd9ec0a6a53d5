import { BatchLoader } from '../../src/shared/batch-loader';

/** A loader over a fake source that records each batch it was asked for. */
function recordingLoader(options: { fail?: () => boolean; maxBatch?: number } = {}) {
  const batches: number[][] = [];
  let release: () => void = () => undefined;
  let gate = Promise.resolve();
  const loader = new BatchLoader<number, string>(async (keys) => {
    batches.push([...keys]);
    await gate;
    if (options.fail?.()) throw new Error('database down');
    return new Map(keys.filter((k) => k % 10 !== 0).map((k) => [k, `user ${k}`]));
  }, options.maxBatch);
  const hold = () => {
    gate = new Promise((resolve) => (release = resolve));
  };
  return { loader, batches, hold, release: () => release() };
}

describe('BatchLoader', () => {
  it('loads every key asked for in one turn with one call, each key once', async () => {
    const { loader, batches } = recordingLoader();
    const results = await Promise.all([loader.load(1), loader.load(2), loader.load(1), loader.load(10), loader.load(3)]);
    expect(batches).toEqual([[1, 2, 10, 3]]);
    expect(results).toEqual(['user 1', 'user 2', 'user 1', undefined, 'user 3']);
  });

  it('keys asked for in later turns go in later batches', async () => {
    const { loader, batches } = recordingLoader();
    await loader.load(1);
    await Promise.all([loader.load(2), loader.load(3)]);
    expect(batches).toEqual([[1], [2, 3]]);
  });

  it('a key asked for while its batch is in flight shares that load; once settled it is loaded afresh', async () => {
    const { loader, batches, hold, release } = recordingLoader();
    hold();
    const first = loader.load(4);
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toEqual([[4]]);
    const second = loader.load(4);
    release();
    expect(await Promise.all([first, second])).toEqual(['user 4', 'user 4']);
    expect(batches).toEqual([[4]]);
    await loader.load(4);
    expect(batches).toEqual([[4], [4]]);
  });

  it('a failed load fails its whole batch, and the next ask tries again', async () => {
    let failing = true;
    const { loader, batches } = recordingLoader({ fail: () => failing });
    const outcomes = await Promise.allSettled([loader.load(1), loader.load(2)]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    failing = false;
    expect(await loader.load(1)).toBe('user 1');
    expect(batches).toEqual([[1, 2], [1]]);
  });

  it('a batch that reaches its limit goes at once', async () => {
    const { loader, batches } = recordingLoader({ maxBatch: 3 });
    const results = Promise.all([1, 2, 3, 4, 5].map((k) => loader.load(k)));
    expect(batches).toEqual([[1, 2, 3]]);
    await results;
    expect(batches).toEqual([[1, 2, 3], [4, 5]]);
  });
});
