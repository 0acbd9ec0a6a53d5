import { filetypeinfo } from 'magic-bytes.js';
import { TextDecoder } from 'node:util';

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

/** Control characters other than tab, newlines and form feed: their presence means "not plain text". */
const CONTROL = /[\u0000-\u0008\u000B\u000E-\u001F\u007F]/;

/**
 * Formats that are themselves text and have a specific signature: a text file that starts with one
 * is that format, not plain text (a PDF may be pure ASCII; SVG and XML stay refused by default).
 */
const TEXT_FORMATS = new Set(['application/pdf', 'application/postscript', 'image/svg+xml', 'application/xml', 'application/rtf']);

/** magic-bytes.js 1.13 reads at most 4,100 bytes (a signature at offset 4096); keep a margin. */
export const SIGNATURE_BYTES = 8 * 1024;

/**
 * Decides a file's type from its bytes as they stream past: it keeps only the first
 * SIGNATURE_BYTES and checks the UTF-8 plain-text rule chunk by chunk, so no file is held whole.
 */
export class ContentSniffer {
  private readonly head: Buffer[] = [];
  private headLength = 0;
  private size = 0;
  private decoder: TextDecoder | undefined = new TextDecoder('utf-8', { fatal: true });

  push(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.headLength < SIGNATURE_BYTES) {
      const part = chunk.subarray(0, SIGNATURE_BYTES - this.headLength);
      this.head.push(Buffer.from(part));
      this.headLength += part.length;
    }
    if (this.decoder) this.decodeText(chunk, true);
  }

  /**
   * The type, once every byte has been pushed: magic numbers for binary formats, UTF-8 text
   * otherwise. Text is decided before the shorter signatures, which plain text often starts with
   * by chance ("G" is MPEG-TS, "BM" a bitmap, "[" JSON, a byte-order mark a Java class); a real
   * binary of those formats is never control-free UTF-8. A script (a `#!` first line) is never
   * plain text.
   */
  type(): string {
    const head = Buffer.concat(this.head, this.headLength);
    if (head.subarray(0, 2).toString('latin1') === '#!') return SCRIPT;
    const [match] = filetypeinfo(head);
    const signature = match && (match.mime ?? UNKNOWN_BINARY);
    if (this.decoder) this.decodeText(new Uint8Array(0), false);
    if (this.decoder && this.size > 0) return signature && TEXT_FORMATS.has(signature) ? signature : 'text/plain';
    return signature ?? UNKNOWN_BINARY;
  }

  /** Feeds the text check; the first invalid sequence or control character ends it for good. */
  private decodeText(bytes: Uint8Array, stream: boolean): void {
    try {
      if (!CONTROL.test(this.decoder!.decode(bytes, { stream }))) return;
    } catch {
      // Not UTF-8.
    }
    this.decoder = undefined;
  }
}

/** The type of a file held in memory (see ContentSniffer for the rules). */
export function detectContentType(bytes: Buffer): string {
  const sniffer = new ContentSniffer();
  sniffer.push(bytes);
  return sniffer.type();
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
