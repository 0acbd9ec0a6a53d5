// Raw HTTP for the REST fuzzer: exact paths, query strings and body bytes, as a hostile client sends them.
import http from 'node:http';
import fc, { type Arbitrary } from 'fast-check';
import { hostileString, mutationOf, RawJson, toJsonText } from './fuzz-values';

export interface FuzzRequest {
  /** The route it was generated for, for reports. */
  route: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export interface FuzzResponse {
  status: number;
  contentType?: string;
  text: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

/** Sends a request as given and resolves with the answer; rejects when none comes within `timeoutMs`. */
export function send(baseUrl: string, request: FuzzRequest, timeoutMs = 10_000): Promise<FuzzResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const headers = { ...request.headers, ...(request.body ? { 'Content-Length': String(request.body.length) } : {}) };
    const req = http.request({ hostname, port, agent, method: request.method, path: request.path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(request.body);
  });
}

export const closeAgent = () => agent.destroy();

/** Percent-encodes the UTF-8 bytes of a text (a lone surrogate goes as U+FFFD, as any client would send it). */
export function percentEncode(text: string): string {
  return Buffer.from(text, 'utf8')
    .toString('latin1')
    .replace(/[^A-Za-z0-9\-_.~]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** How a value reads as text in a path or query. */
export function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof RawJson) return value.text;
  if (value !== null && typeof value === 'object') return toJsonText(value);
  return String(value);
}

/** Path segments that are not valid percent-encoding or that mean something to a router. */
const RAW_SEGMENTS = ['%', '%zz', '%00', '%ED%A0%80', '%C0%AF', '%FF', '..', '.', '%2F', '%2e%2e', '%252F', '1%00', '1;2', '1,2', '*'];

/** A path segment: a real id, any hostile value encoded, or a raw one that breaks decoding. */
export function pathSegment(plausible: Arbitrary<unknown>, hostile: Arbitrary<unknown>): Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: plausible.map((v) => percentEncode(asText(v))) },
    { weight: 4, arbitrary: hostile.map((v) => percentEncode(asText(v))) },
    { weight: 1, arbitrary: fc.constantFrom(...RAW_SEGMENTS) },
  );
}

/**
 * A query string for these fields: a valid one mutated, or each field absent, plain, empty,
 * repeated (an array) or bracketed (an object to an extended parser), plus stray keys.
 */
export function queryString(fields: Record<string, Arbitrary<unknown>>, hostile: Arbitrary<unknown>, bases: object[] = []): Arbitrary<string> {
  const value = (plausible: Arbitrary<unknown>) => fc.oneof({ weight: 2, arbitrary: plausible }, { weight: 3, arbitrary: hostile });
  const pair = (n: string, v: unknown) => `${percentEncode(n)}=${percentEncode(asText(v))}`;
  const param = (name: Arbitrary<string>, plausible: Arbitrary<unknown>) =>
    fc.oneof(
      { weight: 6, arbitrary: fc.tuple(name, value(plausible)).map(([n, v]) => [`${percentEncode(n)}=${percentEncode(asText(v))}`]) },
      { weight: 1, arbitrary: name.map((n) => [`${percentEncode(n)}=`]) },
      { weight: 1, arbitrary: name.map((n) => [percentEncode(n)]) },
      { weight: 1, arbitrary: fc.tuple(name, value(plausible), value(plausible)).map(([n, a, b]) => [pair(n, a), pair(n, b)]) },
      { weight: 1, arbitrary: fc.tuple(name, hostileString(6), value(plausible)).map(([n, k, v]) => [pair(`${n}[${k}]`, v)]) },
    );
  const known = Object.entries(fields).map(([name, plausible]) => fc.option(param(fc.constant(name), plausible), { nil: undefined, freq: 3 }));
  const stray = fc.array(param(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'a[b]', '%', '&'), hostile), { maxLength: 2 });
  const composed = fc.tuple(fc.tuple(...known), stray, fc.boolean()).map(([params, extra, shuffled]) => {
    const parts = [...params.flatMap((p) => p ?? []), ...extra.flat()];
    if (shuffled) parts.reverse();
    return parts.length ? `?${parts.join('&')}` : '';
  });
  if (!bases.length) return composed;
  const mutated = mutationOf(bases, Object.keys(fields), hostile).map((params) => {
    const parts = Object.entries(params).map(([n, v]) => `${percentEncode(n)}=${percentEncode(asText(v))}`);
    return parts.length ? `?${parts.join('&')}` : '';
  });
  // A valid query with one of its fields given twice: an array where a scalar belongs.
  const repeated = fc
    .tuple(fc.constantFrom(...bases), fc.constantFrom(...Object.keys(fields)))
    .chain(([base, name]) => fc.tuple(fc.constant(base), fc.constant(name), fields[name]!, fields[name]!))
    .map(([base, name, a, b]) => {
      const parts = Object.entries(base).filter(([n]) => n !== name).map(([n, v]) => `${percentEncode(n)}=${percentEncode(asText(v))}`);
      return `?${[...parts, `${name}=${percentEncode(asText(a))}`, `${name}=${percentEncode(asText(b))}`].join('&')}`;
    });
  return fc.oneof({ weight: 3, arbitrary: mutated }, { weight: 3, arbitrary: composed }, { weight: 1, arbitrary: repeated });
}

/** Bodies that are not the JSON of any object. */
const RAW_BODIES = [
  '{', '[', '{"a":', 'nul', '\u0000', '"text"', '42', 'true', 'null', '[]', '{"a":1}}', "{'a':1}", '\uFEFF{}',
  '{"__proto__":{"isAdmin":true,"role":"admin"}}', '{"constructor":{"prototype":{"polluted":1}}}',
  '{"receiverId":1,"receiverId":"x","receiverId":{}}', '{"content":"\\ud800"}', '{"content":"\\u0000"}',
  `${'['.repeat(10_000)}${']'.repeat(10_000)}`, `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`,
];

const CONTENT_TYPES = [
  'application/json', 'application/json; charset=utf-8', 'application/json; charset=latin1', 'application/json; charset=utf-16',
  'APPLICATION/JSON', 'application/json;;', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', 'application/vnd.api+json', '',
];

/** A body for a route: mostly the JSON of a generated payload, sometimes raw junk, in an odd type or encoding. */
export function jsonBody(payload: Arbitrary<unknown>): Arbitrary<{ body?: Buffer; headers: Record<string, string> }> {
  const text = fc.oneof({ weight: 10, arbitrary: payload.map(toJsonText) }, { weight: 1, arbitrary: fc.constantFrom(...RAW_BODIES) });
  const type = fc.oneof({ weight: 12, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: fc.constantFrom(...CONTENT_TYPES) });
  const encoding = fc.oneof(
    { weight: 20, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-unknown') },
  );
  return fc.tuple(text, type, encoding).map(([body, contentType, contentEncoding]) => {
    const headers: Record<string, string> = {};
    if (contentType) headers['Content-Type'] = contentType;
    if (contentEncoding) headers['Content-Encoding'] = contentEncoding;
    return { body: body === '' ? undefined : Buffer.from(body, 'utf8'), headers };
  });
}

interface Part {
  field: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

/** A multipart body written byte by byte; names go raw in UTF-8, quotes and line breaks included. */
function multipartBytes(parts: Part[], boundary: string, close: boolean): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.field}"${part.filename === undefined ? '' : `; filename="${part.filename}"`}`;
    const head = `--${boundary}\r\nContent-Disposition: ${disposition}\r\n${part.contentType ? `Content-Type: ${part.contentType}\r\n` : ''}\r\n`;
    chunks.push(Buffer.from(head, 'utf8'), part.data, Buffer.from('\r\n'));
  }
  if (close) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

/** Upload bodies: real files and junk under odd field and file names, several parts, broken envelopes. */
export function multipartBody(files: Buffer[], maxBytes: number): Arbitrary<{ body?: Buffer; headers: Record<string, string> }> {
  const data = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...files) },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 256 }).map((bytes) => Buffer.from(bytes)) },
    { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
    { weight: 1, arbitrary: fc.integer({ min: maxBytes - 16, max: maxBytes + 64 }).map((n) => Buffer.alloc(n, 'a')) },
  );
  const part = fc.record({
    field: fc.oneof(
      { weight: 6, arbitrary: fc.constant('file') },
      { weight: 1, arbitrary: fc.constantFrom('files', 'file[]', '__proto__', '', 'FILE') },
      { weight: 1, arbitrary: hostileString(10) },
    ),
    filename: fc.option(
      fc.oneof(fc.constantFrom('a.png', 'notes.txt', '../../etc/passwd', 'x.exe', '.', '..', 'a"b.png', 'a\r\nb.png'), hostileString(300)),
      { nil: undefined, freq: 6 },
    ),
    contentType: fc.option(fc.constantFrom('image/png', 'text/plain', 'application/x-msdownload', 'image/svg+xml', '\u0000'), { nil: undefined }),
    data,
  });
  const boundary = fc.oneof(
    { weight: 8, arbitrary: fc.constant('duet-fuzz-boundary') },
    { weight: 1, arbitrary: fc.constantFrom('', 'x'.repeat(100), '"quoted"', 'a b') },
  );
  const parts = fc.oneof({ weight: 4, arbitrary: part.map((p) => [p]) }, { weight: 1, arbitrary: fc.array(part, { maxLength: 3 }) });
  return fc.tuple(parts, boundary, fc.boolean(), fc.nat(10)).map(([parts, b, close, cut]) => {
    let body = multipartBytes(parts, b || 'duet-fuzz-boundary', close || cut > 2);
    if (cut === 0) body = body.subarray(0, Math.floor(body.length / 2));
    const type = b === '' ? 'multipart/form-data' : `multipart/form-data; boundary=${b}`;
    return { body: body.length ? body : undefined, headers: { 'Content-Type': type } };
  });
}
