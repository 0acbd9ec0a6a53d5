import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Response } from 'supertest';
import type { AttachmentJson } from '../../src/attachments/attachment.presenter';
import type { MessageJson } from '../../src/messages/message.presenter';
import type { Sent } from '../helpers/contract';
import { createCast, sendMessage } from '../helpers/factories';
import { ELF, GIF, JPEG, PDF, PNG, RANDOM_BYTES, SHELL_SCRIPT, TEXT, WEBP, WINDOWS_EXE } from '../helpers/files';
import { connectAs, emitAck, nextEvent } from '../helpers/sockets';
import { bearer, GENEROUS_RATES, type TestApp, useStartedApp, useTestApp } from '../helpers/test-app';
import { filesUnder } from '../helpers/uploads';

/** A server-generated storage key, the only name a file gets on disk. */
const KEY_NAME = /^[0-9a-f]{32}$/;

// ---------------------------------------------------------------------------------------------
// Apps and helpers
// ---------------------------------------------------------------------------------------------

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duet-attachments-test-'));
  tempDirs.push(dir);
  return dir;
}

const storageDir = tempDir();
// Uploads are the subject here, not their fair-use bucket (tests/integration/fair-use.test.ts).
const app = useTestApp({ attachments: { directory: storageDir }, limits: { rates: GENEROUS_RATES } });
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  // resetData empties the tables; the files of earlier tests go too, so each test sees only its own.
  for (const dir of tempDirs) for (const entry of fs.readdirSync(dir)) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
});

type Headers = Record<string, string>;

const upload = (on: TestApp, userId: number, bytes: Buffer, filename: string, contentType?: string) =>
  on
    .api()
    .post('/api/chat/attachments')
    .set(bearer(userId))
    .attach('file', bytes, contentType ? { filename, contentType } : filename);

/** Uploads and expects success; returns the Attachment. */
async function uploaded(userId: number, bytes: Buffer = PNG, filename = 'dot.png', on: TestApp = app()): Promise<AttachmentJson> {
  const res = await upload(on, userId, bytes, filename);
  if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.attachment as AttachmentJson;
}

/** A response body as raw bytes, whatever its type. */
function binary(res: Response, callback: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(Buffer.from(chunk)));
  res.on('end', () => callback(null, Buffer.concat(chunks)));
  res.on('error', (err) => callback(err, Buffer.alloc(0)));
}

const download = (headers: Headers, id: number | string, on: TestApp = app()) =>
  on.api().get(`/api/chat/attachments/${id}`).set(headers).buffer(true).parse(binary);

/** The error code of a response fetched with the binary parser. */
const errorCodeOf = (res: Response): string => JSON.parse((res.body as Buffer).toString('utf8')).error.code;

const send = (from: number, body: Record<string, unknown>) => app().api().post('/api/chat/send').set(bearer(from)).send(body);

async function storageKeyOf(id: number, on: TestApp = app()): Promise<string | undefined> {
  const [rows] = await on.chat.sequelize.query('SELECT storage_key FROM attachments WHERE id = :id', { replacements: { id } });
  return (rows as { storage_key: string }[])[0]?.storage_key;
}

async function attachmentRowCount(on: TestApp = app()): Promise<number> {
  const [rows] = await on.chat.sequelize.query('SELECT count(*)::int AS n FROM attachments');
  return (rows as { n: number }[])[0]!.n;
}

/** Where the local disk storage keeps a key's bytes: <dir>/<first 2 hex>/<key>. */
const diskPath = (dir: string, key: string) => path.join(dir, key.slice(0, 2), key);

/**
 * A multipart body written by hand, so part headers reach the server exactly as given. `filename`
 * is sent raw in UTF-8 (as browsers do); `filenameStar` is the RFC 5987 form, already percent-encoded.
 */
function multipart(
  parts: { field: string; filename?: string; filenameStar?: string; contentType?: string; data: Buffer }[],
): { body: Buffer; type: string } {
  const boundary = '----duet-test-boundary-7f3a';
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition =
      `form-data; name="${part.field}"` +
      (part.filename === undefined ? '' : `; filename="${part.filename}"`) +
      (part.filenameStar === undefined ? '' : `; filename*=UTF-8''${part.filenameStar}`);
    const head = `--${boundary}\r\nContent-Disposition: ${disposition}\r\n` +
      (part.contentType ? `Content-Type: ${part.contentType}\r\n` : '') + '\r\n';
    chunks.push(Buffer.from(head, 'utf8'), part.data, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), type: `multipart/form-data; boundary=${boundary}` };
}

const rawUpload = (userId: number, form: { body: Buffer; type: string }) =>
  app().api().post('/api/chat/attachments').set(bearer(userId)).set('Content-Type', form.type).send(form.body);

/**
 * A POST over a plain socket: writes the headers and `first`, then either ends the body or leaves
 * it open (the server must answer without waiting for the rest). Resolves with the response.
 */
function rawPost(on: TestApp, headers: Headers, first: Buffer, options: { end: boolean; rest?: Buffer[] }): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(on.baseUrl);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error('no response while the body was still being sent'));
    }, 5000);
    const req = http.request({ hostname, port, method: 'POST', path: '/api/chat/attachments', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        clearTimeout(timer);
        req.destroy();
        resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    // The server may close the connection before the client is done writing.
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.write(first);
    for (const chunk of options.rest ?? []) req.write(chunk);
    if (options.end) req.end();
  });
}

// ---------------------------------------------------------------------------------------------
// Upload
// ---------------------------------------------------------------------------------------------

describe('POST /attachments: the type comes from the bytes', () => {
  test.each([
    ['a PNG', PNG, 'dot.png', 'image/png'],
    ['a JPEG', JPEG, 'photo.jpg', 'image/jpeg'],
    ['a GIF', GIF, 'anim.gif', 'image/gif'],
    ['a WebP image', WEBP, 'pic.webp', 'image/webp'],
    ['a PDF', PDF, 'doc.pdf', 'application/pdf'],
    ['UTF-8 text with accents and emoji', TEXT, 'notes.txt', 'text/plain'],
  ])('%s is accepted with 201 and its type, name and size', async (_label, bytes, filename, mimeType) => {
    const { alice } = await createCast(app().chat.sequelize);
    const res = await upload(app(), alice, bytes, filename);

    expect(res.status).toBe(201);
    const attachment = res.body.attachment as AttachmentJson;
    expect(attachment).toEqual({
      id: expect.any(Number),
      name: filename,
      mimeType,
      size: bytes.length,
      url: `/api/chat/attachments/${attachment.id}`,
    });
  });

  test('the type the client declares for the part is ignored', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const gif = await upload(app(), alice, GIF, 'anim.gif', 'image/png');
    const pdf = await upload(app(), alice, PDF, 'doc.pdf', 'text/plain');

    expect(gif.status).toBe(201);
    expect(gif.body.attachment.mimeType).toBe('image/gif');
    expect(pdf.status).toBe(201);
    expect(pdf.body.attachment.mimeType).toBe('application/pdf');
  });

  test('a name without an extension, or one the bytes do not contradict, does not decide the type', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const noExtension = await upload(app(), alice, PNG, 'photo', 'application/pdf');
    const unknownExtension = await upload(app(), alice, JPEG, 'holiday.heic');

    expect(noExtension.status).toBe(201);
    expect(noExtension.body.attachment).toMatchObject({ name: 'photo', mimeType: 'image/png' });
    expect(unknownExtension.status).toBe(201);
    expect(unknownExtension.body.attachment).toMatchObject({ name: 'holiday.heic', mimeType: 'image/jpeg' });
  });

  test('UTF-8 text that starts with a byte-order mark is plain text', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), TEXT]);
    const res = await upload(app(), alice, withBom, 'notepad.txt');

    expect(res.status).toBe(201);
    expect(res.body.attachment.mimeType).toBe('text/plain');
  });

  test.each([
    ['G (an MPEG-TS signature)', 'Good morning! Grüße ☕\n'],
    ['BM (a bitmap)', 'BMW service notes: oil, brakes\n'],
    ['ID3 (an MP3 tag)', 'ID3 tags are for music; this is a note\n'],
    ['MZ (a Windows program)', 'MZ is not a program here, just initials\n'],
    ['[ (JSON)', '[1] a reference list\n[2] another\n'],
    ['"free" at offset 4 (QuickTime)', "I'm free on Monday\n"],
  ])('UTF-8 text that begins like %s is plain text', async (_label, text) => {
    const { alice } = await createCast(app().chat.sequelize);
    const res = await upload(app(), alice, Buffer.from(text, 'utf8'), 'note.txt');

    expect(res.status).toBe(201);
    expect(res.body.attachment.mimeType).toBe('text/plain');
  });

  test('SVG markup is its own type, not plain text, and is refused by default', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>\n');
    const res = await upload(app(), alice, svg, 'logo.txt');

    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  test('a larger file is stored and served whole, byte for byte', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const big = Buffer.concat([PNG, Buffer.alloc(256 * 1024, 0x41)]);
    const attachment = await uploaded(alice, big, 'big.png');

    const res = await download(bearer(alice), attachment.id);
    expect(res.status).toBe(200);
    expect(attachment.size).toBe(big.length);
    expect(Buffer.compare(res.body as Buffer, big)).toBe(0);
  });
});

describe('POST /attachments: names are for display only', () => {
  /** Uploads one hand-written file part, expects 201 and returns the name the server kept. */
  async function keptName(userId: number, part: { filename?: string; filenameStar?: string; data: Buffer }): Promise<string> {
    const res = await rawUpload(userId, multipart([{ field: 'file', ...part }]));
    expect(res.status).toBe(201);
    return res.body.attachment.name;
  }

  test('path parts are stripped from the name', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    expect(await keptName(alice, { filename: '../../etc/passwd.txt', data: TEXT })).toBe('passwd.txt');
  });

  test('control characters are stripped from the name', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    // Browsers escape CR, LF and quotes as %0D %0A %22; RFC 5987 can carry any byte.
    expect(await keptName(alice, { filename: 'two%0D%0Alines.txt', data: TEXT })).toBe('twolines.txt');
    expect(await keptName(alice, { filenameStar: 'evil%01%1B%5B31mname%7F%00.txt', data: TEXT })).toBe('evil[31mname.txt');
  });

  test('a name made only of control characters gets a neutral name', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    expect(await keptName(alice, { filenameStar: '%01%02%1B', data: PNG })).toBe('file');
  });

  test('a UTF-8 name keeps its accents and emoji', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    expect(await keptName(alice, { filename: 'résumé 📄.pdf', data: PDF })).toBe('résumé 📄.pdf');
  });

  test('the bytes are stored under a server-generated 32-hex name inside the storage directory', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const res = await rawUpload(alice, multipart([{ field: 'file', filename: '../../../../tmp/owned.txt', data: TEXT }]));
    expect(res.status).toBe(201);

    const key = await storageKeyOf(res.body.attachment.id);
    expect(key).toMatch(KEY_NAME);
    const file = diskPath(storageDir, key!);
    expect(fs.readFileSync(file).equals(TEXT)).toBe(true);
    // Nothing on disk carries the client's name, and nothing is left half-written.
    const files = filesUnder(storageDir);
    expect(files).toEqual([`${key!.slice(0, 2)}/${key}`]);
    expect(files.every((f) => KEY_NAME.test(path.basename(f)))).toBe(true);
    expect(fs.existsSync(path.join(os.tmpdir(), 'owned.txt'))).toBe(false);
  });

  test('two uploads of the same bytes and name get different storage keys', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const first = await uploaded(alice, PNG, 'same.png');
    const second = await uploaded(alice, PNG, 'same.png');

    expect(second.id).not.toBe(first.id);
    expect(await storageKeyOf(second.id)).not.toBe(await storageKeyOf(first.id));
    expect(filesUnder(storageDir)).toHaveLength(2);
  });
});

describe('POST /attachments: what is refused with 415', () => {
  test.each([
    ['an ELF program named .png', ELF, 'cat.png'],
    ['a Windows executable named .jpg', WINDOWS_EXE, 'holiday.jpg'],
    ['a shell script named .png', SHELL_SCRIPT, 'cute.png'],
    ['a shell script named .txt', SHELL_SCRIPT, 'readme.txt'],
    ['a text file named .png', TEXT, 'image.png'],
    ['a PNG named .pdf', PNG, 'report.pdf'],
    ['arbitrary binary bytes', RANDOM_BYTES, 'data.bin'],
    ['arbitrary binary bytes named .jpg', RANDOM_BYTES, 'photo.jpg'],
  ])('%s gets UNSUPPORTED_MEDIA_TYPE and nothing is stored', async (_label, bytes, filename) => {
    const { alice } = await createCast(app().chat.sequelize);
    const res = await upload(app(), alice, bytes, filename, 'image/png');

    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(await attachmentRowCount()).toBe(0);
    expect(filesUnder(storageDir)).toEqual([]);
  });

  describe('with an allow-list of PNG only', () => {
    const pngOnly = useStartedApp({ attachments: { directory: tempDir(), allowedTypes: ['image/png'] } });

    test('a PDF gets 415 while a PNG is accepted', async () => {
      const { alice } = await createCast(pngOnly().chat.sequelize);
      const pdf = await upload(pngOnly(), alice, PDF, 'doc.pdf');
      const png = await upload(pngOnly(), alice, PNG, 'dot.png');

      expect(pdf.status).toBe(415);
      expect(pdf.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      expect(png.status).toBe(201);
      expect(png.body.attachment.mimeType).toBe('image/png');
    });
  });
});

describe('POST /attachments: malformed requests', () => {
  test('without a token it is 401', async () => {
    const res = await app().api().post('/api/chat/attachments').attach('file', PNG, 'dot.png');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHORIZED');
  });

  test('an empty request is VALIDATION_FAILED', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const res = await app().api().post('/api/chat/attachments').set(bearer(alice));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  });

  test('a multipart request without the file field is VALIDATION_FAILED', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const res = await app().api().post('/api/chat/attachments').set(bearer(alice)).field('note', 'no file here');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  });

  test('a file under another field name is VALIDATION_FAILED', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const res = await app().api().post('/api/chat/attachments').set(bearer(alice)).attach('upload', PNG, 'dot.png');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(await attachmentRowCount()).toBe(0);
  });

  test('two files in one request are VALIDATION_FAILED and neither is stored', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const form = multipart([
      { field: 'file', filename: 'a.png', data: PNG },
      { field: 'file', filename: 'b.png', data: PNG },
    ]);
    const res = await rawUpload(alice, form);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(await attachmentRowCount()).toBe(0);
  });

  test('a JSON body is VALIDATION_FAILED', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const res = await app().api().post('/api/chat/attachments').set(bearer(alice)).send({ file: PNG.toString('base64') });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  });
});

describe('POST /attachments: the size limit', () => {
  const LIMIT = 1024;
  const smallDir = tempDir();
  const small = useStartedApp({ limits: { maxUploadBytes: LIMIT }, attachments: { directory: smallDir } });

  /** A PNG padded with trailing bytes to exactly `size` bytes. */
  const pngOfSize = (size: number) => Buffer.concat([PNG, Buffer.alloc(size - PNG.length, 0x20)]);

  test('a file of exactly the limit is accepted', async () => {
    const { alice } = await createCast(small().chat.sequelize);
    const res = await upload(small(), alice, pngOfSize(LIMIT), 'edge.png');
    expect(res.status).toBe(201);
    expect(res.body.attachment.size).toBe(LIMIT);
  });

  test('a file one byte over the limit is PAYLOAD_TOO_LARGE and nothing is stored', async () => {
    const { alice } = await createCast(small().chat.sequelize);
    const res = await upload(small(), alice, pngOfSize(LIMIT + 1), 'edge.png');
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await attachmentRowCount(small())).toBe(0);
    expect(filesUnder(smallDir)).toEqual([]);
  });

  test('the size is checked before the type: an oversized executable is 413, not 415', async () => {
    const { alice } = await createCast(small().chat.sequelize);
    const res = await upload(small(), alice, Buffer.concat([ELF, Buffer.alloc(LIMIT)]), 'x.png');
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  test('a Content-Length far over the limit is refused before the body is sent', async () => {
    const { alice } = await createCast(small().chat.sequelize);
    const boundary = 'duet-big-upload';
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="huge.png"\r\nContent-Type: image/png\r\n\r\n`,
    );
    const res = await rawPost(
      small(),
      {
        ...bearer(alice),
        'Content-Type': `multipart/form-data; boundary=${boundary}`,
        'Content-Length': String(50 * 1024 * 1024),
      },
      Buffer.concat([head, PNG]),
      { end: false },
    );

    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await attachmentRowCount(small())).toBe(0);
  });

  test('a chunked upload (no Content-Length) that streams past the limit is 413', async () => {
    const { alice } = await createCast(small().chat.sequelize);
    const form = multipart([{ field: 'file', filename: 'stream.png', data: pngOfSize(LIMIT * 8) }]);
    const res = await rawPost(
      small(),
      { ...bearer(alice), 'Content-Type': form.type, 'Transfer-Encoding': 'chunked' },
      form.body.subarray(0, 512),
      { end: true, rest: [form.body.subarray(512)] },
    );

    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await attachmentRowCount(small())).toBe(0);
    expect(filesUnder(smallDir)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Download
// ---------------------------------------------------------------------------------------------

describe('GET /attachments/:id: who gets the bytes', () => {
  test('the uploader gets the exact bytes before sending them', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const attachment = await uploaded(alice, PNG, 'dot.png');

    const res = await download(bearer(alice), attachment.id);
    expect(res.status).toBe(200);
    expect(Buffer.compare(res.body as Buffer, PNG)).toBe(0);
  });

  test('another user gets NOT_FOUND before it is sent, even the future receiver', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const attachment = await uploaded(alice);

    const res = await download(bearer(bob), attachment.id);
    expect(res.status).toBe(404);
    expect(errorCodeOf(res)).toBe('NOT_FOUND');
  });

  test('the receiver gets the bytes once it is sent; a stranger gets NOT_FOUND like for a missing id', async () => {
    const { alice, bob, stranger } = await createCast(app().chat.sequelize);
    const attachment = await uploaded(alice, PDF, 'doc.pdf');
    await sendMessage(app(), alice, bob, '', { attachmentId: attachment.id });

    const receiver = await download(bearer(bob), attachment.id);
    expect(receiver.status).toBe(200);
    expect(Buffer.compare(receiver.body as Buffer, PDF)).toBe(0);

    const sender = await download(bearer(alice), attachment.id);
    expect(sender.status).toBe(200);

    const outsider = await download(bearer(stranger), attachment.id);
    const missing = await download(bearer(stranger), attachment.id + 1000);
    expect(outsider.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(JSON.parse((outsider.body as Buffer).toString())).toEqual(JSON.parse((missing.body as Buffer).toString()));
  });

  test('an id that does not exist is NOT_FOUND', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const res = await download(bearer(alice), 987654);
    expect(res.status).toBe(404);
    expect(errorCodeOf(res)).toBe('NOT_FOUND');
  });

  test('a malformed id is VALIDATION_FAILED', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    for (const id of ['abc', '0', '-1', '1.5']) {
      const res = await download(bearer(alice), id);
      expect(res.status).toBe(400);
      expect(errorCodeOf(res)).toBe('VALIDATION_FAILED');
    }
  });

  test('without a token it is 401', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const attachment = await uploaded(alice);
    const res = await download({}, attachment.id);
    expect(res.status).toBe(401);
  });
});

describe('GET /attachments/:id: response headers', () => {
  const privateCaching = (res: Response) => {
    const cacheControl = String(res.headers['cache-control']);
    expect(cacheControl).toMatch(/\bprivate\b/);
    expect(cacheControl).not.toMatch(/\bpublic\b/);
    expect(String(res.headers.vary)).toMatch(/\bAuthorization\b/i);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  };

  test.each([
    ['PNG', PNG, 'dot.png', 'image/png'],
    ['JPEG', JPEG, 'photo.jpg', 'image/jpeg'],
    ['GIF', GIF, 'anim.gif', 'image/gif'],
    ['WebP', WEBP, 'pic.webp', 'image/webp'],
  ])('a %s image is served inline with its stored type, nosniff and private caching', async (_label, bytes, filename, mimeType) => {
    const { alice } = await createCast(app().chat.sequelize);
    const attachment = await uploaded(alice, bytes, filename);

    const res = await download(bearer(alice), attachment.id);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(mimeType);
    expect(res.headers['content-length']).toBe(String(bytes.length));
    expect(res.headers['content-disposition']).toMatch(new RegExp(`^inline; filename="${filename.replace('.', '\\.')}"`));
    privateCaching(res);
    expect(Buffer.compare(res.body as Buffer, bytes)).toBe(0);
  });

  test('a PDF is served as a download (Content-Disposition: attachment)', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const attachment = await uploaded(alice, PDF, 'doc.pdf', app());

    const res = await download(bearer(alice), attachment.id);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="doc\.pdf"/);
    privateCaching(res);
  });

  test('text is served as a download in UTF-8, even when it is markup', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const html = Buffer.from('<html><body><script>alert(document.cookie)</script>é</body></html>\n');
    const attachment = await uploaded(alice, html, 'page.html');
    expect(attachment.mimeType).toBe('text/plain');

    const res = await download(bearer(alice), attachment.id);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain(;|$)/);
    expect(res.headers['content-type']).toMatch(/charset=utf-8/i);
    expect(res.headers['content-disposition']).toMatch(/^attachment; /);
    privateCaching(res);
    expect(Buffer.compare(res.body as Buffer, html)).toBe(0);
  });

  test('a non-ASCII name is kept exactly in the RFC 5987 filename* and safely in filename', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const res = await rawUpload(alice, multipart([{ field: 'file', filename: 'résumé %22final%22 ☕.pdf', data: PDF }]));
    expect(res.status).toBe(201);
    // Quotes are stripped from the display name, so it can never break out of the header's quoting.
    expect(res.body.attachment.name).toBe('résumé final ☕.pdf');

    const got = await download(bearer(alice), res.body.attachment.id);
    const disposition = String(got.headers['content-disposition']);
    expect(disposition).toContain(`filename*=UTF-8''${encodeURIComponent('résumé final ☕.pdf')}`);
    const ascii = /filename="([^"]*)"/.exec(disposition)?.[1];
    expect(ascii).toBeDefined();
    expect(ascii).toMatch(/^[\x20-\x7e]+$/);
  });
});

// ---------------------------------------------------------------------------------------------
// Sending
// ---------------------------------------------------------------------------------------------

describe('sending an attachment', () => {
  test('with no text: 201 and the message carries the attachment and empty content', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const attachment = await uploaded(alice, PNG, 'dot.png');

    const res = await send(alice, { receiverId: bob, attachmentId: attachment.id });
    expect(res.status).toBe(201);
    const message = res.body.message as MessageJson;
    expect(message.content).toBe('');
    expect(message.attachment).toEqual({
      id: attachment.id,
      name: 'dot.png',
      mimeType: 'image/png',
      size: PNG.length,
      url: `/api/chat/attachments/${attachment.id}`,
    });
  });

  test('with text: both the text and the attachment are kept', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const attachment = await uploaded(alice, PDF, 'doc.pdf');

    const res = await send(alice, { receiverId: bob, content: 'the contract', attachmentId: attachment.id });
    expect(res.status).toBe(201);
    expect(res.body.message.content).toBe('the contract');
    expect(res.body.message.attachment).toMatchObject({ id: attachment.id, name: 'doc.pdf', mimeType: 'application/pdf' });
  });

  test('a message without text or attachment is still VALIDATION_FAILED', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const res = await send(alice, { receiverId: bob, content: '   ' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  });

  test("someone else's upload is NOT_FOUND, and its owner can still send it", async () => {
    const { alice, bob, stranger } = await createCast(app().chat.sequelize);
    const attachment = await uploaded(alice);

    const stolen = await send(stranger, { receiverId: bob, content: 'look', attachmentId: attachment.id });
    expect(stolen.status).toBe(404);
    expect(stolen.body.error.code).toBe('NOT_FOUND');
    const missing = await send(stranger, { receiverId: bob, content: 'look', attachmentId: attachment.id + 1000 });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toEqual(stolen.body.error);

    const own = await send(alice, { receiverId: bob, attachmentId: attachment.id });
    expect(own.status).toBe(201);
    // The failed attempt did not open a conversation between the stranger and bob.
    const strangers = await app().api().get('/api/chat/conversations').set(bearer(stranger));
    expect(strangers.body.conversations).toEqual([]);
  });

  test('the receiver cannot forward an attachment they received', async () => {
    const { alice, bob, stranger } = await createCast(app().chat.sequelize);
    const attachment = await uploaded(alice);
    await sendMessage(app(), alice, bob, '', { attachmentId: attachment.id });

    const res = await send(bob, { receiverId: stranger, attachmentId: attachment.id });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
    expect((await download(bearer(stranger), attachment.id)).status).toBe(404);
  });

  test('attaching an upload a second time is CONFLICT, to anyone', async () => {
    const { alice, bob, stranger } = await createCast(app().chat.sequelize);
    const attachment = await uploaded(alice);
    await sendMessage(app(), alice, bob, 'first', { attachmentId: attachment.id });

    const again = await send(alice, { receiverId: bob, content: 'again', attachmentId: attachment.id });
    const elsewhere = await send(alice, { receiverId: stranger, content: 'fwd', attachmentId: attachment.id });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('CONFLICT');
    expect(elsewhere.status).toBe(409);
    expect(elsewhere.body.error.code).toBe('CONFLICT');
    // The stranger never gets access through the refused send.
    expect((await download(bearer(stranger), attachment.id)).status).toBe(404);
  });

  test('two sends racing with one upload: exactly one succeeds, the other is CONFLICT', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    for (let round = 0; round < 5; round++) {
      const attachment = await uploaded(alice);
      const results = await Promise.all([
        send(alice, { receiverId: bob, content: `a${round}`, attachmentId: attachment.id }),
        send(alice, { receiverId: bob, content: `b${round}`, attachmentId: attachment.id }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
      expect(results.find((r) => r.status === 409)!.body.error.code).toBe('CONFLICT');
    }
    const [rows] = await app().chat.sequelize.query('SELECT count(*)::int AS n, count(DISTINCT attachment_id)::int AS d FROM messages');
    expect(rows).toEqual([{ n: 5, d: 5 }]);
  });

  test('a malformed attachmentId is VALIDATION_FAILED', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const res = await send(alice, { receiverId: bob, attachmentId: 'abc' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  });

  test('a retry with the same clientMessageId and attachmentId returns the same message with 200', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const attachment = await uploaded(alice);
    const body = { receiverId: bob, attachmentId: attachment.id, clientMessageId: 'retry-1' };

    const first = await send(alice, body);
    const retry = await send(alice, body);
    expect(first.status).toBe(201);
    expect(retry.status).toBe(200);
    expect(retry.body.message).toEqual(first.body.message);

    const history = await app().api().get(`/api/chat/conversations/${first.body.message.conversationId}/messages`).set(bearer(alice));
    expect(history.body.messages).toHaveLength(1);
  });

  test('reusing the clientMessageId without the attachment is CONFLICT', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const attachment = await uploaded(alice);
    await sendMessage(app(), alice, bob, 'x', { attachmentId: attachment.id, clientMessageId: 'c-1' });

    const res = await send(alice, { receiverId: bob, content: 'x', clientMessageId: 'c-1' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('CONFLICT');
  });

  test('history, the conversation and the conversation list carry the attachment object', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const attachment = await uploaded(alice, GIF, 'anim.gif');
    const sent = await sendMessage(app(), alice, bob, 'look', { attachmentId: attachment.id });
    const expected = { id: attachment.id, name: 'anim.gif', mimeType: 'image/gif', size: GIF.length, url: `/api/chat/attachments/${attachment.id}` };

    const history = await app().api().get(`/api/chat/conversations/${sent.message.conversationId}/messages`).set(bearer(bob));
    expect(history.status).toBe(200);
    expect(history.body.messages[0].attachment).toEqual(expected);

    const conversation = await app().api().get(`/api/chat/conversations/${sent.message.conversationId}`).set(bearer(bob));
    expect(conversation.body.conversation.lastMessage.attachment).toEqual(expected);

    const list = await app().api().get('/api/chat/conversations').set(bearer(alice));
    expect(list.body.conversations[0].lastMessage.attachment).toEqual(expected);

    // A message with no attachment says so explicitly.
    await sendMessage(app(), bob, alice, 'nice');
    const after = await app().api().get(`/api/chat/conversations/${sent.message.conversationId}/messages`).set(bearer(alice));
    expect(after.body.messages.map((m: MessageJson) => m.attachment)).toEqual([expected, null]);
  });

  test('over the socket: send_message with attachmentId acks the message and new_message carries it', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const attachment = await uploaded(alice, JPEG, 'photo.jpg');
    const aliceSocket = await connectAs(app(), alice);
    const bobSocket = await connectAs(app(), bob);
    const received = nextEvent<Sent>(bobSocket, 'new_message');

    const ack = await emitAck<{ ok: boolean; message: MessageJson }>(aliceSocket, 'send_message', {
      receiverId: bob,
      attachmentId: attachment.id,
    });
    expect(ack.ok).toBe(true);
    const expected = { id: attachment.id, name: 'photo.jpg', mimeType: 'image/jpeg', size: JPEG.length, url: `/api/chat/attachments/${attachment.id}` };
    expect(ack.message.content).toBe('');
    expect(ack.message.attachment).toEqual(expected);
    const event = await received;
    expect(event.message.id).toBe(ack.message.id);
    expect(event.message.attachment).toEqual(expected);

    // The same rules as REST: a second send of it is CONFLICT.
    const again = await emitAck<{ ok: boolean; error: { code: string } }>(aliceSocket, 'send_message', {
      receiverId: bob,
      attachmentId: attachment.id,
    });
    expect(again).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    const stolen = await emitAck<{ ok: boolean; error: { code: string } }>(bobSocket, 'send_message', {
      receiverId: alice,
      attachmentId: attachment.id,
    });
    expect(stolen).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });
});

// ---------------------------------------------------------------------------------------------
// Deletion, purge and clean-up
// ---------------------------------------------------------------------------------------------

describe('when its message is deleted', () => {
  test('after a soft delete the users get NOT_FOUND and an admin still gets the bytes', async () => {
    const { alice, bob, stranger } = await createCast(app().chat.sequelize);
    const attachment = await uploaded(alice, PNG, 'dot.png');
    const sent = await sendMessage(app(), alice, bob, '', { attachmentId: attachment.id });
    expect((await download(bearer(bob), attachment.id)).status).toBe(200);

    const removed = await app().api().delete(`/api/chat/messages/${sent.message.id}`).set(bearer(alice));
    expect(removed.status).toBe(204);

    for (const user of [alice, bob]) {
      const res = await download(bearer(user), attachment.id);
      expect(res.status).toBe(404);
      expect(errorCodeOf(res)).toBe('NOT_FOUND');
    }
    const admin = await download(bearer(stranger, { admin: true }), attachment.id);
    expect(admin.status).toBe(200);
    expect(Buffer.compare(admin.body as Buffer, PNG)).toBe(0);
    // Soft delete keeps the bytes (an admin may restore the message).
    expect(fs.existsSync(diskPath(storageDir, (await storageKeyOf(attachment.id))!))).toBe(true);
  });

  test('a soft-deleted message does not free its attachment for another send', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const attachment = await uploaded(alice);
    const sent = await sendMessage(app(), alice, bob, '', { attachmentId: attachment.id });
    await app().api().delete(`/api/chat/messages/${sent.message.id}`).set(bearer(alice)).expect(204);

    const res = await send(alice, { receiverId: bob, attachmentId: attachment.id });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('CONFLICT');
  });

  test('an admin purge removes the bytes from disk and the attachment row', async () => {
    const { alice, bob, stranger } = await createCast(app().chat.sequelize);
    const attachment = await uploaded(alice, PDF, 'doc.pdf');
    const file = diskPath(storageDir, (await storageKeyOf(attachment.id))!);
    const sent = await sendMessage(app(), alice, bob, 'erase me', { attachmentId: attachment.id });
    expect(fs.existsSync(file)).toBe(true);

    const purge = await app().api().delete(`/api/chat/admin/messages/${sent.message.id}`).set(bearer(stranger, { admin: true }));
    expect(purge.status).toBe(204);

    expect(fs.existsSync(file)).toBe(false);
    expect(await storageKeyOf(attachment.id)).toBeUndefined();
    expect(filesUnder(storageDir)).toEqual([]);
    const admin = await download(bearer(stranger, { admin: true }), attachment.id);
    expect(admin.status).toBe(404);
    expect((await download(bearer(alice), attachment.id)).status).toBe(404);
  });

  test('purging a message that was soft-deleted first removes its bytes too', async () => {
    const { alice, bob, stranger } = await createCast(app().chat.sequelize);
    const attachment = await uploaded(alice);
    const file = diskPath(storageDir, (await storageKeyOf(attachment.id))!);
    const sent = await sendMessage(app(), alice, bob, '', { attachmentId: attachment.id });
    await app().api().delete(`/api/chat/messages/${sent.message.id}`).set(bearer(alice)).expect(204);

    await app().api().delete(`/api/chat/admin/messages/${sent.message.id}`).set(bearer(stranger, { admin: true })).expect(204);
    expect(fs.existsSync(file)).toBe(false);
    expect(await attachmentRowCount()).toBe(0);
  });
});

describe('clean-up of uploads never sent', () => {
  const HOUR = 60 * 60 * 1000;

  test('uploads older than the TTL that were never sent lose their row and bytes; sent ones stay', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const orphan = await uploaded(alice, PNG, 'orphan.png');
    const orphanFile = diskPath(storageDir, (await storageKeyOf(orphan.id))!);
    const kept = await uploaded(alice, PDF, 'kept.pdf');
    const keptFile = diskPath(storageDir, (await storageKeyOf(kept.id))!);
    await sendMessage(app(), alice, bob, '', { attachmentId: kept.id });

    const removed = await app().chat.services.attachments.removeOrphans(24 * HOUR, new Date(Date.now() + 25 * HOUR));

    expect(removed).toBe(1);
    expect(await storageKeyOf(orphan.id)).toBeUndefined();
    expect(fs.existsSync(orphanFile)).toBe(false);
    expect(await storageKeyOf(kept.id)).toBeDefined();
    expect(fs.existsSync(keptFile)).toBe(true);
    expect((await download(bearer(bob), kept.id)).status).toBe(200);
    expect((await download(bearer(alice), orphan.id)).status).toBe(404);
  });

  test('a removed orphan can no longer be sent', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const orphan = await uploaded(alice);
    await app().chat.services.attachments.removeOrphans(0, new Date(Date.now() + 1000));

    const res = await send(alice, { receiverId: bob, attachmentId: orphan.id });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
  });

  test('recent unsent uploads within the TTL are kept', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const recent = await uploaded(alice);
    const file = diskPath(storageDir, (await storageKeyOf(recent.id))!);

    expect(await app().chat.services.attachments.removeOrphans(24 * HOUR)).toBe(0);
    expect(await app().chat.services.attachments.removeOrphans(24 * HOUR, new Date(Date.now() + 23 * HOUR))).toBe(0);

    expect(fs.existsSync(file)).toBe(true);
    expect((await download(bearer(alice), recent.id)).status).toBe(200);
  });

  test('soft-deleted messages keep their attachment through the clean-up', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const attachment = await uploaded(alice);
    const sent = await sendMessage(app(), alice, bob, '', { attachmentId: attachment.id });
    await app().api().delete(`/api/chat/messages/${sent.message.id}`).set(bearer(alice)).expect(204);

    expect(await app().chat.services.attachments.removeOrphans(0, new Date(Date.now() + 1000))).toBe(0);
    expect(await storageKeyOf(attachment.id)).toBeDefined();
  });

  describe('with a short configured TTL', () => {
    const quickDir = tempDir();
    const quick = useStartedApp({ attachments: { directory: quickDir, orphanTtlMs: 500 } });

    test('the periodic sweep removes an unsent upload by itself', async () => {
      const { alice } = await createCast(quick().chat.sequelize);
      const orphan = await uploaded(alice, PNG, 'dot.png', quick());
      const file = diskPath(quickDir, (await storageKeyOf(orphan.id, quick()))!);
      expect(fs.existsSync(file)).toBe(true);

      const deadline = Date.now() + 8000;
      while (fs.existsSync(file) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(fs.existsSync(file)).toBe(false);
      expect(await storageKeyOf(orphan.id, quick())).toBeUndefined();
    });
  });
});
