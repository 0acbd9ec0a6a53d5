import type { ErrorBody } from '../../src/shared/errors';
import type { Sent } from '../helpers/contract';
import { createCast, historyOf, sendMessage } from '../helpers/factories';
import { connectAs, emitAck, nextEvent, record, letStrayEventsArrive } from '../helpers/sockets';
import { eventually } from '../helpers/waiting';
import { type AckJson, checkNoUnhandledRejections, expectValidationAck, useSocketApp } from '../helpers/socket-robustness';

/**
 * Hostile payloads for every client event: each is refused in the envelope, and nothing breaks.
 * Real PostgreSQL, a real Socket.IO server on port 0 and socket.io-client; nothing is mocked.
 */

checkNoUnhandledRejections();

describe('malformed and hostile socket input', () => {
  const app = useSocketApp();

  interface Fixture {
    alice: number;
    bob: number;
    stranger: number;
    conversationId: number;
    messageId: number;
  }

  const NO_PAYLOAD = Symbol('no payload');
  type BadPayload = [label: string, payload: unknown];

  /** Payloads every event must refuse, whatever its schema. */
  const shapeless = (valid: object): BadPayload[] => [
    ['no payload at all (only an ack)', NO_PAYLOAD],
    ['a string', 'hello'],
    ['a JSON text of a valid payload', JSON.stringify(valid)],
    ['a number', 42],
    ['a boolean', true],
    ['null', null],
    ['an empty array', []],
    ['an array holding a valid payload', [valid]],
    ['an empty object', {}],
  ];

  const conversationIdCases = (f: Fixture): BadPayload[] => [
    ['a conversationId that is a word', { conversationId: 'abc' }],
    ['a conversationId of 0', { conversationId: 0 }],
    ['a negative conversationId', { conversationId: -f.conversationId }],
    ['a fractional conversationId', { conversationId: 1.5 }],
    ['a conversationId past the integer range', { conversationId: 2 ** 31 }],
    ['a boolean conversationId', { conversationId: true }],
    ['a null conversationId', { conversationId: null }],
    ['a conversationId in an array', { conversationId: [f.conversationId] }],
    ['a conversationId with SQL in it', { conversationId: `${f.conversationId}; DROP TABLE messages` }],
    ['a NoSQL operator as conversationId', { conversationId: { $gt: 0 } }],
    ['a misspelt field', { conversation_id: f.conversationId }],
  ];

  const events: [event: string, valid: (f: Fixture) => object, specific: (f: Fixture) => BadPayload[]][] = [
    ['join_conversation', (f) => ({ conversationId: f.conversationId }), conversationIdCases],
    ['leave_conversation', (f) => ({ conversationId: f.conversationId }), conversationIdCases],
    ['typing', (f) => ({ conversationId: f.conversationId }), conversationIdCases],
    ['stop_typing', (f) => ({ conversationId: f.conversationId }), conversationIdCases],
    [
      'send_message',
      (f) => ({ receiverId: f.bob, content: 'valid' }),
      (f) => [
        ['no content and no attachment', { receiverId: f.bob }],
        ['blank content', { receiverId: f.bob, content: '   \n\t ' }],
        ['no receiver and no conversation', { content: 'lost' }],
        ['both receiverId and conversationId', { receiverId: f.bob, conversationId: f.conversationId, content: 'both' }],
        ['a message to oneself', { receiverId: f.alice, content: 'me' }],
        ['content that is a number', { receiverId: f.bob, content: 42 }],
        ['content that is an object', { receiverId: f.bob, content: { $where: 'sleep(1000)' } }],
        ['content that is an array', { receiverId: f.bob, content: ['a', 'b'] }],
        ['content of 5,000 characters', { receiverId: f.bob, content: 'x'.repeat(5000) }],
        ['content of 4,001 code points in emoji', { receiverId: f.bob, content: '\u{1F600}'.repeat(4001) }],
        ['a receiverId that is a name', { receiverId: 'bob', content: 'hi' }],
        ['a receiverId of 0', { receiverId: 0, content: 'hi' }],
        ['a fractional receiverId', { receiverId: f.bob + 0.5, content: 'hi' }],
        ['a NoSQL operator as receiverId', { receiverId: { $gt: 0 }, content: 'hi' }],
        ['a NoSQL operator as conversationId', { conversationId: { $ne: null }, content: 'hi' }],
        ['a clientMessageId that is a number', { receiverId: f.bob, content: 'hi', clientMessageId: 7 }],
        ['an empty clientMessageId', { receiverId: f.bob, content: 'hi', clientMessageId: '' }],
        ['a clientMessageId of 101 characters', { receiverId: f.bob, content: 'hi', clientMessageId: 'c'.repeat(101) }],
        ['a NoSQL operator as clientMessageId', { receiverId: f.bob, content: 'hi', clientMessageId: { $regex: '.*' } }],
      ],
    ],
    [
      'mark_as_read',
      (f) => ({ conversationId: f.conversationId }),
      (f) => [
        ...conversationIdCases(f),
        ['only an upToMessageId', { upToMessageId: f.messageId }],
        ['an upToMessageId that is a word', { conversationId: f.conversationId, upToMessageId: 'latest' }],
        ['a negative upToMessageId', { conversationId: f.conversationId, upToMessageId: -1 }],
        ['an upToMessageId past the safe integer range', { conversationId: f.conversationId, upToMessageId: 2 ** 53 + 2 }],
        ['a NoSQL operator as upToMessageId', { conversationId: f.conversationId, upToMessageId: { $gt: 0 } }],
      ],
    ],
    [
      'message_delivered',
      (f) => ({ conversationId: f.conversationId, upToMessageId: f.messageId }),
      (f) => [
        ['no upToMessageId', { conversationId: f.conversationId }],
        ['no conversationId', { upToMessageId: f.messageId }],
        ['a conversationId that is a word', { conversationId: 'abc', upToMessageId: f.messageId }],
        ['an upToMessageId that is a word', { conversationId: f.conversationId, upToMessageId: 'all' }],
        ['an upToMessageId of 0', { conversationId: f.conversationId, upToMessageId: 0 }],
        ['a null upToMessageId', { conversationId: f.conversationId, upToMessageId: null }],
        ['a NoSQL operator as conversationId', { conversationId: { $gt: 0 }, upToMessageId: f.messageId }],
        ['a NoSQL operator as upToMessageId', { conversationId: f.conversationId, upToMessageId: { $gte: 1 } }],
      ],
    ],
    [
      'delete_message',
      (f) => ({ messageId: f.messageId }),
      (f) => [
        ['a messageId that is a word', { messageId: 'last' }],
        ['a messageId of 0', { messageId: 0 }],
        ['a negative messageId', { messageId: -f.messageId }],
        ['a messageId of 1e20', { messageId: 1e20 }],
        ['a messageId in an array', { messageId: [f.messageId] }],
        ['a NoSQL operator as messageId', { messageId: { $gt: 0 } }],
        ['an id field instead of messageId', { id: f.messageId }],
      ],
    ],
    [
      'get_online_status',
      (f) => ({ userIds: [f.bob] }),
      (f) => [
        ['userIds that is a number', { userIds: f.bob }],
        ['userIds that is a string', { userIds: String(f.bob) }],
        ['userIds with 0', { userIds: [0] }],
        ['userIds with a word', { userIds: ['bob'] }],
        ['userIds with null', { userIds: [f.bob, null] }],
        ['userIds with a NoSQL operator inside', { userIds: [{ $gt: 0 }] }],
        ['userIds that is a NoSQL operator', { userIds: { $in: [f.bob] } }],
        ['101 userIds', { userIds: Array.from({ length: 101 }, (_, i) => i + 1) }],
        ['a userId past the integer range', { userIds: [2 ** 31] }],
      ],
    ],
  ];

  async function fixture(): Promise<Fixture> {
    const { alice, bob, stranger } = await createCast(app().chat.sequelize);
    const sent = await sendMessage(app(), alice, bob, 'first');
    return { alice, bob, stranger, conversationId: sent.message.conversationId, messageId: sent.message.id };
  }

  test.each(events)('every malformed %s payload is refused with VALIDATION_FAILED and the server keeps serving', async (event, valid, specific) => {
    const f = await fixture();
    const [a, b] = await Promise.all([connectAs(app(), f.alice), connectAs(app(), f.bob)]);
    const errors = record(a, 'error');
    const before = await historyOf(app(), f.alice, f.conversationId);
    const cases: BadPayload[] = [...shapeless(valid(f)), ...specific(f)];
    for (const [label, payload] of cases) {
      const ack = payload === NO_PAYLOAD ? await emitAck<AckJson>(a, event) : await emitAck<AckJson>(a, event, payload);
      expectValidationAck(ack, `${event}: ${label}`);
    }
    expectValidationAck(await emitAck<AckJson>(a, event, valid(f), valid(f)), `${event}: two payload arguments`);
    expectValidationAck(await emitAck<AckJson>(a, event, valid(f), 'extra', 3), `${event}: three payload arguments`);

    // Nothing was written, no `error` event duplicated the acks, and the same socket still works.
    expect(await historyOf(app(), f.alice, f.conversationId)).toEqual(before);
    const received = nextEvent<Sent>(b, 'new_message');
    const ok = await emitAck<AckJson>(a, 'send_message', { receiverId: f.bob, content: `still alive after ${event}` });
    expect(ok.ok).toBe(true);
    expect((await received).message.content).toBe(`still alive after ${event}`);
    expect(errors).toEqual([]);
  });

  test('the valid payloads used above are accepted, so the refusals are about the malformation', async () => {
    const f = await fixture();
    const a = await connectAs(app(), f.alice);
    for (const [event, valid] of events) {
      const ack = await emitAck<AckJson>(a, event, valid(f));
      expect({ event, ok: ack.ok }).toEqual({ event, ok: true });
    }
  });

  test('a failing event sent without an ack is answered with an error event naming it', async () => {
    const f = await fixture();
    const a = await connectAs(app(), f.alice);
    const errors = record<{ event: string; error: ErrorBody }>(a, 'error');
    for (const [event] of events) a.emit(event, 'garbage');
    await eventually(() => errors.length >= events.length, 'an error event for each').catch(() => undefined);
    expect(errors.map((e) => e.event).sort()).toEqual(events.map(([event]) => event).sort());
    for (const e of errors) {
      expect(Object.keys(e).sort()).toEqual(['error', 'event']);
      expect(e.error.code).toBe('VALIDATION_FAILED');
      expect(typeof e.error.message).toBe('string');
      expect(e.error.message.length).toBeGreaterThan(0);
    }
  });

  test('a stranger joining without an ack gets an error event with NOT_FOUND', async () => {
    const f = await fixture();
    const s = await connectAs(app(), f.stranger);
    const error = nextEvent<{ event: string; error: ErrorBody }>(s, 'error');
    s.emit('join_conversation', { conversationId: f.conversationId });
    expect(await error).toEqual({ event: 'join_conversation', error: { code: 'NOT_FOUND', message: expect.any(String) } });
  });

  test('an unknown event with an ack is answered NOT_FOUND; without one it is ignored and the socket keeps serving', async () => {
    const f = await fixture();
    const s = await connectAs(app(), f.alice);
    const errors = record(s, 'error');
    for (const event of ['no_such_event', 'constructor', '__proto__', 'hasOwnProperty']) {
      expect(await emitAck<AckJson>(s, event, { conversationId: f.conversationId })).toEqual({
        ok: false,
        error: { code: 'NOT_FOUND', message: 'No such event' },
      });
      s.emit(event, {});
    }
    expect(await emitAck<AckJson>(s, 'join_conversation', { conversationId: f.conversationId })).toMatchObject({ ok: true });
    expect(errors).toEqual([]);
  });

  test('an event without an ack that succeeds produces no error event', async () => {
    const f = await fixture();
    const [a, b] = await Promise.all([connectAs(app(), f.alice), connectAs(app(), f.bob)]);
    const errors = record(a, 'error');
    const typing = nextEvent<{ isTyping: boolean }>(b, 'user_typing');
    a.emit('typing', { conversationId: f.conversationId });
    expect((await typing).isTyping).toBe(true);
    const received = nextEvent<Sent>(b, 'new_message');
    a.emit('send_message', { conversationId: f.conversationId, content: 'fire and forget' });
    expect((await received).message.content).toBe('fire and forget');
    a.emit('join_conversation', { conversationId: f.conversationId });
    a.emit('mark_as_read', { conversationId: f.conversationId });
    a.emit('get_online_status', { userIds: [f.bob] });
    // These do database work before an error event could come.
    await letStrayEventsArrive(300);
    expect(errors).toEqual([]);
  });

  test('unknown event names are ignored and the socket keeps working', async () => {
    const f = await fixture();
    const [a, b] = await Promise.all([connectAs(app(), f.alice), connectAs(app(), f.bob)]);
    const errors = record(a, 'error');
    for (const name of ['no_such_event', 'constructor', 'toString', 'hasOwnProperty', '__proto__', 'error', 'SEND_MESSAGE']) {
      a.emit(name, { conversationId: f.conversationId, content: 'x' });
    }
    a.emit('no_such_event');
    a.emit('no_such_event', null, 1, 'two', [3]);
    const received = nextEvent<Sent>(b, 'new_message');
    const ack = await emitAck<AckJson>(a, 'send_message', { conversationId: f.conversationId, content: 'after unknown events' });
    expect(ack.ok).toBe(true);
    expect((await received).message.content).toBe('after unknown events');
    expect(a.connected).toBe(true);
    await letStrayEventsArrive();
    expect(errors).toEqual([]);
    // Only the real send was stored.
    expect((await historyOf(app(), f.alice, f.conversationId)).map((m) => m.content)).toEqual(['first', 'after unknown events']);
  });

  test('a payload above the socket size limit disconnects only that socket', async () => {
    const f = await fixture();
    const [a, b, bobOther, s] = await Promise.all([
      connectAs(app(), f.alice),
      connectAs(app(), f.bob),
      connectAs(app(), f.bob),
      connectAs(app(), f.stranger),
    ]);
    const gone = nextEvent<string>(a, 'disconnect');
    a.emit('send_message', { receiverId: f.bob, content: 'x'.repeat(200_000) });
    expect(['transport close', 'transport error']).toContain(await gone);
    expect(a.connected).toBe(false);
    // Everyone else is still connected and served, over the socket and over REST.
    expect([b.connected, bobOther.connected, s.connected]).toEqual([true, true, true]);
    const onBoth = [nextEvent<Sent>(b, 'new_message'), nextEvent<Sent>(bobOther, 'new_message')];
    const ack = await emitAck<AckJson>(b, 'send_message', { receiverId: f.alice, content: 'still here' });
    expect(ack.ok).toBe(true);
    expect((await Promise.all(onBoth)).map((e) => e.message.content)).toEqual(['still here', 'still here']);
    expect((await emitAck<AckJson>(s, 'get_online_status', { userIds: [f.bob] })).ok).toBe(true);
    // The oversized message was never stored; alice can come back.
    expect((await historyOf(app(), f.bob, f.conversationId)).map((m) => m.content)).toEqual(['first', 'still here']);
    const again = await connectAs(app(), f.alice);
    expect((await emitAck<AckJson>(again, 'join_conversation', { conversationId: f.conversationId })).ok).toBe(true);
  });
});
