import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { TestApp } from './test-app';

const BOUNDARY = '----duet-streamed-upload-5c1e';
const PADDING = Buffer.alloc(64 * 1024, 0x20);

export interface StreamedUploadOptions {
  /** The file's first bytes (its signature); the rest is padding up to `size`. */
  head: Buffer;
  size: number;
  filename: string;
  /** Send no Content-Length (Transfer-Encoding: chunked), so the server learns the size only as it reads. */
  chunked?: boolean;
}

export interface UploadResponse {
  status: number;
  body: { attachment?: { id: number; size: number; mimeType: string }; error?: { code: string; message: string } };
}

/** The multipart envelope around one file part in field `file`. */
function envelope(filename: string): { open: Buffer; close: Buffer; type: string } {
  return {
    open: Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\n\r\n`),
    close: Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
    type: `multipart/form-data; boundary=${BOUNDARY}`,
  };
}

/** The file's bytes, produced a chunk at a time from one shared padding buffer. */
function* fileChunks(head: Buffer, size: number): Generator<Buffer> {
  yield head;
  for (let left = size - head.length; left > 0; left -= PADDING.length) yield PADDING.subarray(0, Math.min(left, PADDING.length));
}

/**
 * An upload whose body is generated while it is sent, so the test process never holds a file
 * whole (what the server's memory does is then the server's alone).
 */
export function streamUpload(on: TestApp, headers: Record<string, string>, options: StreamedUploadOptions): Promise<UploadResponse> {
  const { open, close, type } = envelope(options.filename);
  const length = open.length + options.size + close.length;
  const body = Readable.from(
    (function* () {
      yield open;
      yield* fileChunks(options.head, options.size);
      yield close;
    })(),
  );
  const { hostname, port } = new URL(on.baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        hostname,
        port,
        method: 'POST',
        path: '/api/chat/attachments',
        headers: { ...headers, 'Content-Type': type, ...(options.chunked ? {} : { 'Content-Length': String(length) }) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          body.destroy();
          resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        });
      },
    );
    // The server may answer (413) and close before the whole body is written.
    req.on('error', reject);
    body.pipe(req);
  });
}

/**
 * Starts an upload of `size` bytes and writes only its first `sent` bytes. Then `abort` cuts the
 * connection, as a client that goes away mid-upload does, or `finish` sends the rest and resolves
 * with the response.
 */
export async function startUpload(
  on: TestApp,
  headers: Record<string, string>,
  options: StreamedUploadOptions & { sent: number },
): Promise<{ abort: () => void; finish: () => Promise<UploadResponse> }> {
  const { open, close, type } = envelope(options.filename);
  const { hostname, port } = new URL(on.baseUrl);
  const length = open.length + options.size + close.length;
  const req = http.request({
    hostname,
    port,
    method: 'POST',
    path: '/api/chat/attachments',
    headers: { ...headers, 'Content-Type': type, ...(options.chunked ? {} : { 'Content-Length': String(length) }) },
  });
  const response = new Promise<UploadResponse>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
  });
  response.catch(() => undefined);
  const write = async (chunk: Buffer) => {
    if (!req.write(chunk)) await new Promise((resolve) => req.once('drain', resolve));
  };

  await write(open);
  const rest: Buffer[] = [];
  let written = 0;
  for (const chunk of fileChunks(options.head, options.size)) {
    const part = chunk.subarray(0, Math.max(0, options.sent - written));
    written += part.length;
    if (part.length) await write(part);
    if (part.length < chunk.length) rest.push(chunk.subarray(part.length));
  }
  return {
    abort: () => req.destroy(),
    finish: async () => {
      for (const chunk of rest) await write(chunk);
      req.end(close);
      return response;
    },
  };
}

/** Every file under a directory, as paths relative to it. */
export function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((entry) => fs.statSync(path.join(dir, entry)).isFile())
    .map((entry) => entry.split(path.sep).join('/'));
}

/** Where uploads are written while they arrive, for an app given `directory` and no storage. */
export const spoolOf = (directory: string) => path.join(directory, '.incoming');

