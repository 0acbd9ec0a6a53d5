import { MAX_INT_ID, parseId } from '../../src/shared/ids';

describe('id parsing', () => {
  test.each([
    [7, 7],
    ['7', 7],
    [MAX_INT_ID, MAX_INT_ID],
  ])('accepts %p', (input, expected) => {
    expect(parseId(input, MAX_INT_ID)).toBe(expected);
  });

  test.each([0, -1, 1.5, '1.5', '01', '1e3', 'abc', '', Infinity, NaN, MAX_INT_ID + 1, null, {}, [], true, ' 1'])(
    'refuses %p',
    (input) => {
      expect(parseId(input, MAX_INT_ID)).toBeUndefined();
    },
  );
});
