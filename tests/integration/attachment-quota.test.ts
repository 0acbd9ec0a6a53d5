import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createCast, createUser, sendMessage } from '../helpers/factories';
import { PNG } from '../helpers/files';
import { bearer, GENEROUS_RATES, type TestApp, useTestApp } from '../helpers/test-app';
import { filesUnder, spoolOf, startUpload, streamUpload, type UploadResponse } from '../helpers/uploads';
import { eventually } from '../helpers/waiting';

const MiB = 1024 * 1024;
const QUOTA = 3 * MiB;

const storageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'duet-quota-test-'));
// The quota is the subject here, not the upload bucket (tests/integration/fair-use.test.ts).
const app = useTestApp({ attachments: { directory: storageDir, quotaBytes: QUOTA }, limits: { rates: GENEROUS_RATES } });
afterAll(() => fs.rmSync(storageDir, { recursive: true, force: true }));
beforeEach(() => {
  // resetData empties the tables; the files of earlier tests go too.
  for (const entry of fs.readdirSync(storageDir)) fs.rmSync(path.join(storageDir, entry), { recursive: true, force: true });
});

const uploadOf = (userId: number, size: number, options: { chunked?: boolean; on?: TestApp } = {}) =>
  streamUpload(options.on ?? app(), bearer(userId), { head: PNG, size, filename: 'photo.png', chunked: options.chunked });

async function storedBytes(userId: number): Promise<number> {
  const [rows] = await app().chat.sequelize.query('SELECT COALESCE(sum(size), 0)::int AS bytes FROM attachments WHERE uploader_id = :userId', {
    replacements: { userId },
  });
  return (rows as { bytes: number }[])[0]!.bytes;
}

function expectQuotaRefusal(res: UploadResponse): void {
  expect(res.status).toBe(413);
  expect(res.body.error!.code).toBe('PAYLOAD_TOO_LARGE');
  expect(res.body.error!.message).toContain(`quota of ${QUOTA} bytes`);
}

/** Nothing left in the spool, and the stored files are exactly the attachment rows. */
async function expectNothingLeftOver(): Promise<void> {
  await eventually(() => filesUnder(spoolOf(storageDir)).length === 0, 'the spool emptied', 5000);
  const [rows] = await app().chat.sequelize.query('SELECT count(*)::int AS n FROM attachments');
  expect(filesUnder(storageDir)).toHaveLength((rows as { n: number }[])[0]!.n);
}

describe('ATTACHMENT_QUOTA_BYTES: what one user may store', () => {
  test('uploads one after another fill the quota exactly; the next is 413 naming the quota; others are not affected', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    for (let i = 0; i < 3; i++) expect((await uploadOf(alice, MiB)).status).toBe(201);

    expectQuotaRefusal(await uploadOf(alice, PNG.length));
    expectQuotaRefusal(await uploadOf(alice, MiB, { chunked: true }));
    expect(await storedBytes(alice)).toBe(QUOTA);
    expect((await uploadOf(bob, MiB)).status).toBe(201);
    await expectNothingLeftOver();
  });

  test('a file larger than what is left is refused before its body is read when it announces its length', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    expect((await uploadOf(alice, 2 * MiB)).status).toBe(201);

    expectQuotaRefusal(await uploadOf(alice, 2 * MiB));
    expectQuotaRefusal(await uploadOf(alice, 2 * MiB, { chunked: true }));
    expect((await uploadOf(alice, MiB)).status).toBe(201);
    await expectNothingLeftOver();
  });

  test('five parallel 1 MiB uploads that announce their length: three are stored, two refused at once', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const results = await Promise.all(Array.from({ length: 5 }, () => uploadOf(alice, MiB)));

    expect(results.filter((r) => r.status === 201)).toHaveLength(3);
    for (const refused of results.filter((r) => r.status !== 201)) expectQuotaRefusal(refused);
    expect(await storedBytes(alice)).toBe(QUOTA);
    await expectNothingLeftOver();
  });

  test('five parallel 1 MiB chunked uploads: the claims grow as they stream, and together they never pass the quota', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const results = await Promise.all(Array.from({ length: 5 }, () => uploadOf(alice, MiB, { chunked: true })));

    const stored = results.filter((r) => r.status === 201);
    expect(stored.length).toBeGreaterThanOrEqual(1);
    expect(stored.length).toBeLessThanOrEqual(3);
    for (const refused of results.filter((r) => r.status !== 201)) expectQuotaRefusal(refused);
    expect(await storedBytes(alice)).toBe(stored.length * MiB);
    await expectNothingLeftOver();
  });

  test('an upload in progress holds its announced bytes, and gives them back when its client goes away', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const big = await startUpload(app(), bearer(alice), { head: PNG, size: QUOTA, filename: 'all.png', sent: MiB });
    try {
      await eventually(() => filesUnder(spoolOf(storageDir)).length === 1, 'one file in the spool', 5000);
      // Bigger than the few hundred bytes a claim made from Content-Length may leave for the envelope.
      expectQuotaRefusal(await uploadOf(alice, 64 * 1024));
    } finally {
      big.abort();
    }
    await expectNothingLeftOver();

    expect((await uploadOf(alice, QUOTA)).status).toBe(201);
  });

  test('the stored bytes are checked again before the row is written: an upload that began before another was stored cannot pass the quota', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    // Chunked, so it claims only what it has sent: 512 KiB while the other upload is admitted and stored.
    const early = await startUpload(app(), bearer(alice), { head: PNG, size: 2 * MiB, filename: 'early.png', sent: MiB / 2, chunked: true });
    let response: Promise<UploadResponse>;
    try {
      await eventually(() => filesUnder(spoolOf(storageDir)).length === 1, 'one file in the spool', 5000);
      expect((await uploadOf(alice, 2 * MiB)).status).toBe(201);
    } finally {
      response = early.finish();
    }

    expectQuotaRefusal(await response);
    expect(await storedBytes(alice)).toBe(2 * MiB);
    await expectNothingLeftOver();
  });

  test('refused uploads give their claims back: after a burst of refusals the whole quota is still usable', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    // Past the quota while streaming, the wrong type, and no file at all, each after taking a claim.
    expect((await uploadOf(alice, 5 * MiB, { chunked: true })).status).toBe(413);
    const script = await streamUpload(app(), bearer(alice), { head: Buffer.from('#!/bin/sh\n'), size: MiB, filename: 'x.sh' });
    expect(script.status).toBe(415);
    expect((await app().api().post('/api/chat/attachments').set(bearer(alice)).field('note', 'no file')).status).toBe(400);

    expect((await uploadOf(alice, QUOTA)).status).toBe(201);
    await expectNothingLeftOver();
  });
});

describe('what the quota counts', () => {
  const remove = (userId: number, messageId: number) => app().api().delete(`/api/chat/messages/${messageId}`).set(bearer(userId));
  const purge = async (messageId: number) => {
    const admin = await createUser(app().chat.sequelize, 'Admin');
    return app().api().delete(`/api/chat/admin/messages/${messageId}`).set(bearer(admin, { admin: true }));
  };

  test('sent files and files of soft-deleted messages count; purged ones do not', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const sent = await uploadOf(alice, MiB);
    const message = await sendMessage(app(), alice, bob, '', { attachmentId: sent.body.attachment!.id });
    expect((await uploadOf(alice, MiB)).status).toBe(201);
    expect((await uploadOf(alice, MiB)).status).toBe(201);
    expectQuotaRefusal(await uploadOf(alice, PNG.length));

    expect((await remove(alice, message.message.id)).status).toBe(204);
    expectQuotaRefusal(await uploadOf(alice, PNG.length));

    expect((await purge(message.message.id)).status).toBe(204);
    expect((await uploadOf(alice, MiB)).status).toBe(201);
    expect(await storedBytes(alice)).toBe(QUOTA);
  });

  test('unsent uploads count until the clean-up removes them', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    expect((await uploadOf(alice, QUOTA)).status).toBe(201);
    expectQuotaRefusal(await uploadOf(alice, PNG.length));

    await app().chat.services.attachments.removeOrphans(0, new Date(Date.now() + 1000));
    expect((await uploadOf(alice, MiB)).status).toBe(201);
  });
});
