import { filetypeinfo } from 'magic-bytes.js';

export const DEFAULT_ALLOWED_TYPES = Object.freeze([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'application/pdf',
  'text/plain',
]);

/** What a file name claims, for the extensions we can check against the bytes. */
const EXTENSION_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  pdf: 'application/pdf',
  txt: 'text/plain',
};

const SCRIPT = 'text/x-script';
const UNKNOWN_BINARY = 'application/octet-stream';

/** UTF-8 text with no control characters other than tab, newlines and form feed. */
function isPlainText(bytes: Buffer): boolean {
  if (bytes.length === 0) return false;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return false;
  }
  return !/[\u0000-\u0008\u000B\u000E-\u001F\u007F]/.test(text);
}

/**
 * Formats that are themselves text and have a specific signature: a text file that starts with one
 * is that format, not plain text (a PDF may be pure ASCII; SVG and XML stay refused by default).
 */
const TEXT_FORMATS = new Set(['application/pdf', 'application/postscript', 'image/svg+xml', 'application/xml', 'application/rtf']);

/**
 * The type of a file, from its bytes alone: magic numbers for binary formats, UTF-8 text otherwise.
 * Text is decided before the shorter signatures, which plain text often starts with by chance
 * ("G" is MPEG-TS, "BM" a bitmap, "[" JSON, a byte-order mark a Java class); a real binary of those
 * formats is never control-free UTF-8. A script (a `#!` first line) is never plain text.
 */
export function detectContentType(bytes: Buffer): string {
  if (bytes.subarray(0, 2).toString('latin1') === '#!') return SCRIPT;
  const [match] = filetypeinfo(bytes);
  const signature = match && (match.mime ?? UNKNOWN_BINARY);
  if (isPlainText(bytes)) return signature && TEXT_FORMATS.has(signature) ? signature : 'text/plain';
  return signature ?? UNKNOWN_BINARY;
}

/** True when the name's extension names a different type than the bytes have (e.g. text named .png). */
export function nameContradicts(name: string, detected: string): boolean {
  const extension = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase();
  const claimed = extension ? EXTENSION_TYPES[extension] : undefined;
  return claimed !== undefined && claimed !== detected;
}

/** A display name with no path, no control characters and a sane length. Never used in a path. */
export function sanitizeFileName(raw: string | undefined): string {
  const base = (raw ?? '').split(/[\\/]/).pop() ?? '';
  const clean = base.replace(/[\u0000-\u001F\u007F"<>|:*?]/g, '').trim().slice(0, 255);
  return clean === '' || clean === '.' || clean === '..' ? 'file' : clean;
}
