/** Ids of users and conversations are PostgreSQL INTEGERs; message ids are BIGINTs kept within JS's safe range. */
export const MAX_INT_ID = 2_147_483_647;
export const MAX_BIGINT_ID = Number.MAX_SAFE_INTEGER;

const DECIMAL = /^[1-9]\d{0,15}$/;

/** A positive id from a JSON number or a decimal string; anything else is undefined. */
export function parseId(value: unknown, max: number): number | undefined {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && DECIMAL.test(value)) n = Number(value);
  else return undefined;
  return Number.isSafeInteger(n) && n >= 1 && n <= max ? n : undefined;
}

export const parseUserId = (value: unknown) => parseId(value, MAX_INT_ID);
