import { parseCommonTimestamptz, TIMESTAMPTZ_OID } from '../../src/db/timestamp-parser';

// pg ships no type declarations; only its type-parser registry is used here.
const pg = require('pg') as { types: { getTypeParser(oid: number, format: string): (text: string) => unknown } };

/** The driver's general parser: the fast one must agree with it wherever it answers. */
const general = pg.types.getTypeParser(TIMESTAMPTZ_OID, 'text');

describe('parseCommonTimestamptz', () => {
  it.each([
    '2026-11-30 13:31:47.123+00',
    '2026-11-30 13:31:47.123456+00',
    '2026-11-30 13:31:47.1+00',
    '2026-11-30 13:31:47.9999+00',
    '2026-11-30 13:31:47+00',
    '2026-02-28 23:59:59.5-08',
    '2026-01-01 00:00:00.001+05:30',
    '2025-12-31 22:15:00-03:30',
    '1970-01-01 00:00:00+00',
    '9999-12-31 23:59:59.999+14',
    '1000-01-01 00:00:00+00',
  ])('reads %s as the general parser does', (text) => {
    const fast = parseCommonTimestamptz(text);
    expect(fast).toBeInstanceOf(Date);
    expect(fast!.getTime()).toBe((general(text) as Date).getTime());
  });

  it.each([
    'infinity',
    '-infinity',
    '0044-03-15 12:00:00+00 BC',
    '0999-12-31 23:59:59+00',
    '12026-11-30 13:31:47+00',
    '1883-11-18 11:59:59+00:03:58',
    '2026-11-30T13:31:47Z',
    '2026-11-30 13:31:47',
    '2026-1x-30 13:31:47.123+00',
  ])('leaves %s to the general parser', (text) => {
    expect(parseCommonTimestamptz(text)).toBeUndefined();
  });
});
