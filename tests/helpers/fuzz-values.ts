// Hostile values for the fuzzers (tests/integration/fuzz-*.test.ts): what a broken or malicious
// client puts where an id, a string or an object belongs.
import { createHmac } from 'node:crypto';
import fc, { type Arbitrary } from 'fast-check';

/**
 * A JSON literal written out verbatim in a REST body (numbers JSON.stringify cannot produce, such
 * as 1e400 or 9007199254740993). Socket payloads carry its parsed value instead.
 */
export class RawJson {
  constructor(readonly text: string) {}
}

/** JSON text of a generated value, with RawJson literals in place. */
export function toJsonText(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_key, v: unknown) => (v instanceof RawJson ? `\u0001raw${raws.push(v.text) - 1}\u0001` : v));
  // undefined (an absent payload) has no JSON text; the caller sends no body then.
  return text === undefined ? '' : text.replace(/"\\u0001raw(\d+)\\u0001"/g, (_m, i: string) => raws[Number(i)]!);
}

/** The value a JSON parser makes of a generated value (RawJson parsed, undefined and functions dropped). */
export function asParsed(value: unknown): unknown {
  if (value instanceof RawJson) return JSON.parse(value.text);
  if (Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) return value.map(asParsed);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) defineKey(out, key, asParsed(v));
    return out;
  }
  return value;
}

/** Sets a key as an own property, `__proto__` included (plain assignment would change the prototype). */
export function defineKey(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

const EDGE_NUMBERS = [
  0, -0, 1, -1, 0.5, 1.5, -1.5, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 1e20, 1e21, 1e308, -1e308,
  Number.MIN_VALUE, Number.EPSILON, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY,
];

/** Number literals as a client's JSON might spell them. */
const RAW_NUMBERS = ['1e400', '-1e400', '9007199254740993', '18446744073709551616', '-0', '1.0', '1e0', '0.1e1', '1E+2', '2147483648', '-2147483649'];

/** Strings that look like numbers (or like nothing) to a careless parser. */
const NUMERIC_STRINGS = [
  'NaN', 'Infinity', '-Infinity', '-0', '0', '00', '01', '+1', '1.0', '1e3', '1e308', '9007199254740993', '2147483648',
  '0x1A', '0b11', '0o7', '1_000', ' 1', '1 ', '\t1', '1\n', '١٢', '１', '\u00001', '1\u0000', '', ' ', 'null', 'undefined',
  'true', '[]', '{}', '[1]', '1,2', '1;DROP TABLE messages', "1' OR '1'='1", '$gt', '%', '_', '\\', '-1', '1.5',
];

/** Single characters that break naive code: NUL, lone surrogates, controls, direction and zero-width marks. */
const NASTY_CHARS = [
  '\u0000', '\uD800', '\uDBFF', '\uDC00', '\uDFFF', '\u0001', '\u001B', '\u007F', '\u202E', '\u200B', '\uFEFF', '\u3000',
  '%', '"', "'", '\\', '\r', '\n', '<', '&',
];

const unit = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.constantFrom(...NASTY_CHARS) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
);

export const hostileString = (maxLength = 40): Arbitrary<string> => fc.string({ unit, maxLength });

/** Strings past every limit Duet has (message length, JSON body, cursors, names). */
export const oversizeString = (maxLength: number): Arbitrary<string> =>
  fc
    .tuple(fc.constantFrom('x', ' ', '\u{1F600}', 'é', '\u0000', 'a\uD800'), fc.integer({ min: 90, max: maxLength }))
    .map(([chunk, length]) => chunk.repeat(Math.ceil(length / chunk.length)));

/** Keys that have meaning to JavaScript objects, query builders or ORMs. */
export const HOSTILE_KEYS = [
  '__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '$gt', '$where', '$ne', '', 'id', 'userId', 'senderId',
];
export const hostileKey = fc.oneof(fc.constantFrom(...HOSTILE_KEYS), hostileString(12));

/** An array or object nested far deeper than any payload Duet expects. */
const deepValue = fc
  .tuple(fc.integer({ min: 20, max: 1000 }), fc.boolean(), fc.constantFrom<unknown>(1, 'x', null, {}))
  .map(([depth, arrays, leaf]) => {
    let value: unknown = leaf;
    for (let i = 0; i < depth; i++) value = arrays ? [value] : { a: value };
    return value;
  });

export interface HostileOptions {
  /** Ids of real things (users, conversations, messages, attachments), the caller's and others'. */
  ids: number[];
  /** The longest oversize string. */
  oversize: number;
  /** Bytes too (socket payloads can carry binary). */
  binary?: boolean;
}

/** Any hostile value: wrong types, edge numbers, nasty strings, nested and deep structures, real ids. */
export function hostileValue({ ids, oversize, binary }: HostileOptions): Arbitrary<unknown> {
  const scalar = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...EDGE_NUMBERS) },
    { weight: 1, arbitrary: fc.constantFrom(...RAW_NUMBERS).map((text) => new RawJson(text)) },
    { weight: 1, arbitrary: fc.double() },
    { weight: 1, arbitrary: fc.integer() },
    { weight: 3, arbitrary: fc.constantFrom(...NUMERIC_STRINGS) },
    { weight: 3, arbitrary: hostileString() },
    { weight: 1, arbitrary: oversizeString(oversize) },
    { weight: 1, arbitrary: fc.boolean() },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 3, arbitrary: fc.constantFrom(...ids) },
    { weight: 2, arbitrary: fc.constantFrom(...ids).map(String) },
    ...(binary ? [{ weight: 1, arbitrary: fc.uint8Array({ maxLength: 32 }).map((bytes) => Buffer.from(bytes)) }] : []),
  );
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      { weight: 6, arbitrary: scalar },
      { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 4 }) },
      { weight: 1, arbitrary: objectOf(hostileKey, tie('value'), 4) },
    ),
  }));
  return fc.oneof(
    { weight: 8, arbitrary: value },
    { weight: 1, arbitrary: deepValue },
    { weight: 1, arbitrary: fc.array(fc.constantFrom(...ids), { minLength: 1, maxLength: 3 }) },
  );
}

/** An object with own keys from `keys` (including `__proto__`), built without touching prototypes. */
export function objectOf(keys: Arbitrary<string>, values: Arbitrary<unknown>, maxKeys: number): Arbitrary<Record<string, unknown>> {
  return fc.array(fc.tuple(keys, values), { maxLength: maxKeys }).map((entries) => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of entries) defineKey(out, key, value);
    return out;
  });
}

/**
 * Valid payloads with a few fields changed to hostile values, removed, or added: these get past
 * the first checks and reach the deeper ones (services, SQL).
 */
export function mutationOf(bases: object[], fieldNames: string[], hostile: Arbitrary<unknown>): Arbitrary<Record<string, unknown>> {
  const key = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...fieldNames, ...HOSTILE_KEYS.slice(0, 3)) }, { weight: 1, arbitrary: hostileKey });
  const change = fc.tuple(key, fc.option(hostile, { nil: undefined, freq: 5 }));
  return fc.tuple(fc.constantFrom(...bases), fc.array(change, { maxLength: 2 })).map(([base, changes]) => {
    const out: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(base)) defineKey(out, name, value);
    for (const [name, value] of changes) {
      if (value === undefined) delete out[name];
      else defineKey(out, name, value);
    }
    return out;
  });
}

/**
 * A payload for a command with these fields: a valid one mutated, an object whose fields are each
 * absent, plausible or hostile (plus stray keys), or sometimes no object at all.
 */
export function payloadOf(fields: Record<string, Arbitrary<unknown>>, hostile: Arbitrary<unknown>, bases: object[] = []): Arbitrary<unknown> {
  const value = (plausible: Arbitrary<unknown>) => fc.oneof({ weight: 2, arbitrary: plausible }, { weight: 3, arbitrary: hostile });
  const known = Object.entries(fields).map(([name, plausible]) =>
    fc.option(value(plausible), { nil: undefined, freq: 4 }).map((v) => [name, v] as const),
  );
  const object = fc.tuple(objectOf(hostileKey, hostile, 2), fc.tuple(...known)).map(([stray, entries]) => {
    const out: Record<string, unknown> = {};
    for (const [name, value] of [...Object.entries(stray), ...entries]) if (value !== undefined) defineKey(out, name, value);
    return out;
  });
  const mutated = bases.length ? [{ weight: 6, arbitrary: mutationOf(bases, Object.keys(fields), hostile) }] : [];
  return fc.oneof(...mutated, { weight: 6, arbitrary: object }, { weight: 1, arbitrary: hostile });
}

const base64url = (value: unknown) => Buffer.from(typeof value === 'string' ? value : toJsonText(value)).toString('base64url');

/** A JWT over any header and claims, HS256-signed with `secret` (jsonwebtoken refuses to sign hostile claims). */
export function signJwt(header: unknown, claims: unknown, secret: string): string {
  const unsigned = `${base64url(header)}.${base64url(claims)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

/**
 * Tokens a hostile client can make with a valid signature, or without one: claims of any type
 * (sub, role, exp, nbf, iat), other algorithms, unsigned and truncated tokens.
 */
export function hostileToken(secret: string, userIds: number[], hostile: Arbitrary<unknown>): Arbitrary<string> {
  const now = Math.floor(Date.now() / 1000);
  const claim = (plausible: Arbitrary<unknown>) =>
    fc.option(fc.oneof({ weight: 2, arbitrary: plausible }, { weight: 1, arbitrary: hostile }), { nil: undefined, freq: 4 });
  const claims = fc
    .record({
      sub: claim(fc.oneof(fc.constantFrom(...userIds), fc.constantFrom(...userIds).map(String))),
      role: claim(fc.constant('admin')),
      exp: claim(fc.constantFrom(now + 3600, now - 10, now + 40 * 86_400, 1e308, 2 ** 53)),
      nbf: claim(fc.constantFrom(now - 10, now + 3600)),
      iat: claim(fc.constant(now)),
    })
    .map((c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)));
  const header = fc.oneof(
    { weight: 6, arbitrary: fc.constant({ alg: 'HS256', typ: 'JWT' }) },
    { weight: 1, arbitrary: fc.constantFrom({ alg: 'none' }, { alg: 'HS512' }, { alg: 'RS256' }, { alg: ['HS256'] }, {}, 'x') },
  );
  return fc.tuple(header, claims, fc.nat(20)).map(([h, c, mangle]) => {
    const token = signJwt(h, c, secret);
    if (mangle === 0) return token.slice(0, token.lastIndexOf('.') + 1);
    if (mangle === 1) return token.slice(0, -3);
    return token;
  });
}
