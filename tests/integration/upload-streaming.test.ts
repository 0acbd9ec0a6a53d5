import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prepareSpoolDirectory } from '../../src/attachments/upload-spool';
import { createCast } from '../helpers/factories';
import { GIF, JPEG, PDF, PNG, TEXT, WEBP } from '../helpers/files';
import { bearer, GENEROUS_RATES, type TestApp, useStartedApp, useTestApp } from '../helpers/test-app';
import { filesUnder, spoolOf, startUpload, streamUpload } from '../helpers/uploads';
import { eventually } from '../helpers/waiting';

const MiB = 1024 * 1024;

const tempDirs: string[] = [];
function tempDir(parent = os.tmpdir()): string {
  const dir = fs.mkdtempSync(path.join(parent, 'duet-streaming-test-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

const storageDir = tempDir();
// Uploads are the subject here, not their fair-use bucket (tests/integration/fair-use.test.ts).
const app = useTestApp({ attachments: { directory: storageDir }, limits: { rates: GENEROUS_RATES } });
beforeEach(() => {
  for (const entry of fs.readdirSync(storageDir)) fs.rmSync(path.join(storageDir, entry), { recursive: true, force: true });
});

async function attachmentRowCount(on: TestApp = app()): Promise<number> {
  const [rows] = await on.chat.sequelize.query('SELECT count(*)::int AS n FROM attachments');
  return (rows as { n: number }[])[0]!.n;
}

/** The bytes streamUpload sends for a file: its head, then spaces up to `size`. */
const padded = (head: Buffer, size: number) => Buffer.concat([head, Buffer.alloc(size - head.length, 0x20)]);

async function downloaded(userId: number, id: number): Promise<Buffer> {
  const res = await app()
    .api()
    .get(`/api/chat/attachments/${id}`)
    .set(bearer(userId))
    .buffer(true)
    .parse((stream, done) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => done(null, Buffer.concat(chunks)));
    });
  expect(res.status).toBe(200);
  return res.body as Buffer;
}

describe('POST /attachments streams the file to storage', () => {
  test.each([
    ['PNG', PNG, 'big.png', 'image/png'],
    ['JPEG', JPEG, 'big.jpg', 'image/jpeg'],
    ['GIF', GIF, 'big.gif', 'image/gif'],
    ['WebP', WEBP, 'big.webp', 'image/webp'],
    ['PDF', PDF, 'big.pdf', 'application/pdf'],
    ['UTF-8 text', TEXT, 'big.txt', 'text/plain'],
  ])('a 2 MiB %s sent in chunks without Content-Length is stored byte for byte with its type', async (_label, head, filename, mimeType) => {
    const { alice } = await createCast(app().chat.sequelize);
    const res = await streamUpload(app(), bearer(alice), { head, size: 2 * MiB, filename, chunked: true });

    expect(res.status).toBe(201);
    expect(res.body.attachment).toMatchObject({ mimeType, size: 2 * MiB });
    expect((await downloaded(alice, res.body.attachment!.id)).equals(padded(head, 2 * MiB))).toBe(true);
    expect(filesUnder(spoolOf(storageDir))).toEqual([]);
  });

  test('text is checked to its last byte: one invalid UTF-8 byte deep in a large file is 415', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const text = Buffer.alloc(MiB, 'a');
    text[MiB - 100] = 0xff;
    const res = await app().api().post('/api/chat/attachments').set(bearer(alice)).attach('file', text, 'notes.txt');

    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(await attachmentRowCount()).toBe(0);
    expect(filesUnder(storageDir)).toEqual([]);
  });

  test('while an upload arrives its bytes are on disk, and a client that goes away leaves no file and no row', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const spool = spoolOf(storageDir);
    const upload = await startUpload(app(), bearer(alice), { head: PNG, size: 4 * MiB, filename: 'cut.png', sent: 2 * MiB });

    const spooledSize = () => filesUnder(spool).reduce((sum, f) => sum + fs.statSync(path.join(spool, f)).size, 0);
    await eventually(() => spooledSize() >= MiB, 'a MiB spooled', 5000);
    upload.abort();

    await eventually(() => filesUnder(storageDir).length === 0, 'the storage emptied', 5000);
    expect(await attachmentRowCount()).toBe(0);
    // The server is fine afterwards.
    expect((await streamUpload(app(), bearer(alice), { head: PNG, size: MiB, filename: 'next.png' })).status).toBe(201);
  });

  test('twenty parallel 8 MiB uploads raise the server process memory by far less than their 160 MiB', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    // One upload first, so code and pools that every upload shares are already in memory.
    expect((await streamUpload(app(), bearer(alice), { head: PNG, size: 8 * MiB, filename: 'warm.png' })).status).toBe(201);
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 5);
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => streamUpload(app(), bearer(alice), { head: PNG, size: 8 * MiB, filename: `p${i}.png` })),
      );
      expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    // Held in memory, the files alone were 160 MiB (measured before streaming: +201 MiB).
    expect(peak - before).toBeLessThan(60 * MiB);
  });
});

describe('POST /attachments: the size limit while streaming', () => {
  const limitDir = tempDir();
  const limited = useStartedApp({ limits: { maxUploadBytes: MiB, rates: GENEROUS_RATES }, attachments: { directory: limitDir } });

  test.each([
    ['with Content-Length', false],
    ['chunked', true],
  ])('%s: exactly the limit is stored, one byte more is 413 and leaves nothing behind', async (_label, chunked) => {
    const { alice } = await createCast(limited().chat.sequelize);
    const atLimit = await streamUpload(limited(), bearer(alice), { head: PNG, size: MiB, filename: 'edge.png', chunked });
    const over = await streamUpload(limited(), bearer(alice), { head: PNG, size: MiB + 1, filename: 'over.png', chunked });

    expect(atLimit.status).toBe(201);
    expect(over.status).toBe(413);
    expect(over.body.error!.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await attachmentRowCount(limited())).toBe(1);
    await eventually(() => filesUnder(spoolOf(limitDir)).length === 0, 'the spool emptied', 5000);
  });
});

describe('where uploads are spooled', () => {
  // /dev/shm is a tmpfs on Linux, so the finished file cannot be renamed into the storage and is copied.
  const otherFileSystem = tempDir(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir());
  const copyDir = tempDir();
  const copying = useStartedApp({ attachments: { directory: copyDir, spoolDirectory: otherFileSystem }, limits: { rates: GENEROUS_RATES } });

  test('a spool on another file system than the storage still stores the file whole and leaves no copy behind', async () => {
    const { alice } = await createCast(copying().chat.sequelize);
    const res = await streamUpload(copying(), bearer(alice), { head: PDF, size: 3 * MiB, filename: 'far.pdf' });

    expect(res.status).toBe(201);
    const stored = filesUnder(copyDir);
    expect(stored).toHaveLength(1);
    expect(fs.readFileSync(path.join(copyDir, stored[0]!)).equals(padded(PDF, 3 * MiB))).toBe(true);
    expect(filesUnder(otherFileSystem)).toEqual([]);
  });

  test('at start, files a crashed process left in the spool are removed, recent ones are kept', async () => {
    const dir = tempDir();
    const stale = path.join(dir, 'a'.repeat(32) + '.upload');
    const recent = path.join(dir, 'b'.repeat(32) + '.upload');
    const unrelated = path.join(dir, 'notes.txt');
    for (const file of [stale, recent, unrelated]) fs.writeFileSync(file, 'x');
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    fs.utimesSync(stale, twoHoursAgo, twoHoursAgo);
    fs.utimesSync(unrelated, twoHoursAgo, twoHoursAgo);

    await prepareSpoolDirectory(dir, 60 * 60 * 1000);

    expect(fs.existsSync(stale)).toBe(false);
    expect(fs.existsSync(recent)).toBe(true);
    expect(fs.existsSync(unrelated)).toBe(true);
  });
});
