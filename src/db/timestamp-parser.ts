/** PostgreSQL's type oid for `timestamp with time zone`. */
export const TIMESTAMPTZ_OID = 1184;

const digit = (text: string, at: number): number => {
  const d = text.charCodeAt(at) - 48;
  return d >= 0 && d <= 9 ? d : NaN;
};
const two = (text: string, at: number): number => digit(text, at) * 10 + digit(text, at + 1);

/**
 * Parses PostgreSQL's text form of a timestamptz, `2026-11-30 13:31:47.123456+00` (the offset may
 * carry minutes, `+05:30`). A history page holds four timestamps per message, and the driver's
 * general parser (a regular expression per value, plus a second one for the offset) was a quarter
 * of everything a history request allocated. Anything outside the common form (BC dates, years
 * before 1000 or past 9999, infinity) gives undefined: the caller hands it to that general parser.
 */
export function parseCommonTimestamptz(text: string): Date | undefined {
  const n = text.length;
  if (n < 22 || text.charCodeAt(4) !== 45 /* - */ || text.charCodeAt(10) !== 32 /* space */) return undefined;
  const year = two(text, 0) * 100 + two(text, 2);
  const month = two(text, 5);
  const day = two(text, 8);
  const hour = two(text, 11);
  const minute = two(text, 14);
  const second = two(text, 17);
  let at = 19;
  let ms = 0;
  if (text.charCodeAt(at) === 46 /* . */) {
    at++;
    // Milliseconds from the first three fraction digits; a Date holds no finer time.
    for (let scale = 100; at < n && digit(text, at) >= 0; at++, scale /= 10) if (scale >= 1) ms += digit(text, at) * scale;
  }
  const sign = text.charCodeAt(at);
  if ((sign !== 43 /* + */ && sign !== 45) /* - */ || year < 1000) return undefined;
  let offsetMinutes = two(text, at + 1) * 60;
  at += 3;
  if (at < n && text.charCodeAt(at) === 58 /* : */) {
    offsetMinutes += two(text, at + 1);
    at += 3;
  }
  // A seconds part in the offset (historic local mean time) or anything else: the general parser.
  if (at !== n) return undefined;
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, ms) - (sign === 45 ? -1 : 1) * offsetMinutes * 60_000;
  return Number.isNaN(utc) ? undefined : new Date(utc);
}
