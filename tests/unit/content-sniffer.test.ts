import { ContentSniffer, detectContentType, SIGNATURE_BYTES } from '../../src/attachments/content-type';
import { GIF, PDF, PNG, RANDOM_BYTES, SHELL_SCRIPT, TEXT, WEBP } from '../helpers/files';

/** The type a sniffer decides when the bytes arrive in chunks of `size`. */
function sniffInChunks(bytes: Buffer, size: number): string {
  const sniffer = new ContentSniffer();
  for (let at = 0; at < bytes.length; at += size) sniffer.push(bytes.subarray(at, at + size));
  return sniffer.type();
}

describe('ContentSniffer: the type decided while the bytes stream', () => {
  test.each([
    ['PNG', PNG],
    ['GIF', GIF],
    ['WebP', WEBP],
    ['PDF', PDF],
    ['UTF-8 text', TEXT],
    ['a script', SHELL_SCRIPT],
    ['binary noise', RANDOM_BYTES],
  ])('%s gets the same type in one-byte, seven-byte and whole chunks', (_label, bytes) => {
    const whole = detectContentType(bytes);
    expect(sniffInChunks(bytes, 1)).toBe(whole);
    expect(sniffInChunks(bytes, 7)).toBe(whole);
  });

  test('a multi-byte character split across chunks is still text', () => {
    const text = Buffer.from('☕'.repeat(1000), 'utf8');
    expect(sniffInChunks(text, 1)).toBe('text/plain');
    expect(sniffInChunks(text, 1024)).toBe('text/plain');
  });

  test('a control character far past the signature bytes makes text binary', () => {
    const text = Buffer.alloc(SIGNATURE_BYTES * 4, 'a');
    text[text.length - 10] = 0x00;
    expect(sniffInChunks(text, 4096)).toBe('application/octet-stream');
  });

  test('a UTF-8 sequence cut short at the very end is not text', () => {
    const cut = Buffer.concat([Buffer.from('fine so far '), Buffer.from('☕', 'utf8').subarray(0, 2)]);
    expect(sniffInChunks(cut, 5)).toBe('application/octet-stream');
  });

  test('a PNG with megabytes of padding keeps its type, decided from its first bytes', () => {
    const big = Buffer.concat([PNG, Buffer.alloc(3 * 1024 * 1024, 0x20)]);
    expect(sniffInChunks(big, 64 * 1024)).toBe('image/png');
  });

  test('no bytes at all is no known type', () => {
    expect(new ContentSniffer().type()).toBe('application/octet-stream');
  });
});
