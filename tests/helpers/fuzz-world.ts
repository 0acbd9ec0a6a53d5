// The data the fuzzers play in: the fuzzing user's own things and other users' things, so that
// generated payloads can name real ids of both.
import { MAX_BIGINT_ID, MAX_INT_ID, parseId } from '../../src/shared/ids';
import { createUser, resetData, sendMessage } from './factories';
import { PNG, TEXT } from './files';
import { bearer, type TestApp } from './test-app';

export interface FuzzWorld {
  /** The fuzzing user. */
  alice: number;
  /** Alice's partner. */
  bob: number;
  /** A user who shares nothing with alice. */
  mallory: number;
  admin: number;
  conversationIds: number[];
  messageIds: number[];
  attachmentIds: number[];
  /** Every id above, plus ids just past them and at the ends of the id ranges. */
  ids: number[];
  /** What alice may never see: the strangers' conversation, its messages, mallory's file. */
  strangers: { conversations: Set<number>; messages: Set<number>; attachments: Set<number> };
}

/** Whether a value a client sent names one of the strangers' things (as a number or a decimal string). */
export function namesStrangers(things: Set<number>, value: unknown): boolean {
  const id = parseId(value, MAX_BIGINT_ID);
  return id !== undefined && things.has(id);
}

async function upload(t: TestApp, userId: number, bytes: Buffer, name: string): Promise<number> {
  const res = await t.api().post('/api/chat/attachments').set(bearer(userId)).attach('file', bytes, name);
  if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.attachment.id;
}

/** Empties the database and builds the world: two conversations (one of strangers), messages, uploads, a deletion. */
export async function buildWorld(t: TestApp): Promise<FuzzWorld> {
  const { sequelize } = t.chat;
  await resetData(sequelize);
  const [alice, bob, mallory, admin] = [
    await createUser(sequelize, 'Alice'),
    await createUser(sequelize, 'Bob'),
    await createUser(sequelize, 'Mallory'),
    await createUser(sequelize, 'Admin'),
  ];
  const alicePhoto = await upload(t, alice, PNG, 'photo.png');
  const aliceUnsent = await upload(t, alice, TEXT, 'notes.txt');
  const malloryFile = await upload(t, mallory, TEXT, 'secret.txt');
  const sent = [
    await sendMessage(t, alice, bob, 'hello bob'),
    await sendMessage(t, bob, alice, 'hi alice', { clientMessageId: 'bob-1' }),
    await sendMessage(t, alice, bob, '', { attachmentId: alicePhoto }),
    await sendMessage(t, bob, mallory, 'between strangers'),
    await sendMessage(t, mallory, bob, 'with a file', { attachmentId: malloryFile }),
  ];
  const deleted = await sendMessage(t, alice, bob, 'deleted soon');
  const res = await t.api().delete(`/api/chat/messages/${deleted.message.id}`).set(bearer(alice));
  if (res.status !== 204) throw new Error(`delete failed: ${res.status}`);
  const conversationIds = [...new Set(sent.map((s) => s.conversation.id))];
  const messageIds = [...sent.map((s) => s.message.id), deleted.message.id];
  const attachmentIds = [alicePhoto, aliceUnsent, malloryFile];
  const real = [alice, bob, mallory, admin, ...conversationIds, ...messageIds, ...attachmentIds];
  const ids = [...new Set([...real, Math.max(...real) + 1, MAX_INT_ID, MAX_INT_ID + 1, MAX_BIGINT_ID])];
  const strangers = {
    conversations: new Set([sent[3]!.conversation.id]),
    messages: new Set([sent[3]!.message.id, sent[4]!.message.id]),
    attachments: new Set([malloryFile]),
  };
  return { alice, bob, mallory, admin, conversationIds, messageIds, attachmentIds, ids, strangers };
}
