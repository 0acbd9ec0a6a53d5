import { validationFailed } from '../shared/errors';

/** Length in Unicode code points, as the contract counts MAX_MESSAGE_LENGTH. */
export function codePointLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/**
 * The content rule for every door: text is optional only with an attachment, blank text counts as
 * none, and it may not exceed the limit. Returns the content to store ('' for none).
 */
export function checkContent(content: string | undefined, hasAttachment: boolean, maxLength: number): string {
  const text = content ?? '';
  if (text.trim() === '' && !hasAttachment) {
    throw validationFailed('content must not be blank', [{ field: 'content', message: 'must not be blank' }]);
  }
  if (codePointLength(text) > maxLength) {
    throw validationFailed(`content is longer than ${maxLength} characters`, [
      { field: 'content', message: `at most ${maxLength} characters` },
    ]);
  }
  return text.trim() === '' ? '' : text;
}

