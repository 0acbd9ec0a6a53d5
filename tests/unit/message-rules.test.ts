import { checkContent, codePointLength } from '../../src/messages/message-rules';
import { AppError } from '../../src/shared/errors';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as AppError).code;
  }
};

describe('message rules', () => {
  test('an astral emoji counts as one code point', () => {
    expect(codePointLength('😀a')).toBe(2);
    expect('😀a'.length).toBe(3);
  });

  test('content at the limit in code points is accepted and one more is refused', () => {
    expect(checkContent('😀'.repeat(5), false, 5)).toBe('😀😀😀😀😀');
    expect(codeOf(() => checkContent('😀'.repeat(6), false, 5))).toBe('VALIDATION_FAILED');
  });

  test('blank content is refused without an attachment and stored as empty with one', () => {
    expect(codeOf(() => checkContent('  \n\t', false, 10))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => checkContent(undefined, false, 10))).toBe('VALIDATION_FAILED');
    expect(checkContent('   ', true, 10)).toBe('');
  });

  test('content keeps its own whitespace', () => {
    expect(checkContent('  hi  ', false, 10)).toBe('  hi  ');
  });
});
