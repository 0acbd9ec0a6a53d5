// What the socket fuzzer (tests/integration/fuzz-socket.test.ts) emits: every client event with
// plausible values for each field, and events generated from them.
import fc, { type Arbitrary } from 'fast-check';
import { asParsed, hostileString, hostileValue, oversizeString, payloadOf } from './fuzz-values';
import type { FuzzWorld } from './fuzz-world';

export interface EventSpec {
  event: string;
  fields: Record<string, Arbitrary<unknown>>;
  /** Valid payloads, which the fuzzer mutates. */
  valid: object[];
}

/** Every client → server event of src/realtime/events.ts, with plausible values for each field. */
export function events(w: FuzzWorld): EventSpec[] {
  const id = fc.constantFrom(...w.ids);
  const [own, strangers] = w.conversationIds as [number, number];
  const [unsent] = w.attachmentIds.slice(1);
  const conversationRef = (event: string): EventSpec => ({
    event,
    fields: { conversationId: id },
    valid: [{ conversationId: own }, { conversationId: strangers }],
  });
  const receipt = { conversationId: id, upToMessageId: id };
  return [
    conversationRef('join_conversation'),
    conversationRef('leave_conversation'),
    conversationRef('typing'),
    conversationRef('stop_typing'),
    {
      event: 'send_message',
      fields: {
        receiverId: id,
        conversationId: id,
        content: fc.oneof(fc.constantFrom('hi', '', '   ', 'bonjour 👋'), hostileString(), oversizeString(8000)),
        clientMessageId: fc.oneof(fc.constant('bob-1'), hostileString(8)),
        attachmentId: id,
      },
      valid: [
        { receiverId: w.bob, content: 'hi' },
        { conversationId: own, content: 'hi', clientMessageId: 'c-1' },
        { receiverId: w.bob, content: '', attachmentId: unsent },
        { receiverId: w.mallory, content: 'hello stranger' },
      ],
    },
    { event: 'mark_as_read', fields: receipt, valid: [{ conversationId: own }, { conversationId: own, upToMessageId: w.messageIds[1]! }] },
    { event: 'message_delivered', fields: receipt, valid: [{ conversationId: own, upToMessageId: w.messageIds[1]! }] },
    { event: 'delete_message', fields: { messageId: id }, valid: w.messageIds.map((messageId) => ({ messageId })) },
    {
      event: 'get_online_status',
      fields: { userIds: fc.array(id, { maxLength: 120 }) },
      valid: [{ userIds: [w.bob, w.mallory] }, { userIds: Array.from({ length: 100 }, (_, i) => i + 1) }],
    },
  ];
}

export interface SocketCase {
  event: string | number;
  args: unknown[];
  ack: boolean;
}

/** Names socket.io-client itself refuses to emit. */
const CLIENT_RESERVED = ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'];

/** A payload sent as one argument (the contract), none, or with extra arguments; with an ack or without. */
function casesFor(spec: EventSpec, hostile: Arbitrary<unknown>): Arbitrary<SocketCase> {
  const payload = payloadOf(spec.fields, hostile, spec.valid).map(asParsed);
  const extras = fc.array(hostile.map(asParsed), { minLength: 1, maxLength: 3 });
  return fc.oneof(
    { weight: 10, arbitrary: fc.tuple(payload, fc.nat(3)).map(([p, n]) => ({ event: spec.event, args: [p], ack: n > 0 })) },
    { weight: 1, arbitrary: fc.boolean().map((ack) => ({ event: spec.event, args: [], ack })) },
    { weight: 2, arbitrary: fc.tuple(payload, extras, fc.boolean()).map(([p, more, ack]) => ({ event: spec.event, args: [p, ...more], ack })) },
  );
}

/** Events no handler has: typos, prototype names, numbers, nasty strings. */
function unknownCases(hostile: Arbitrary<unknown>): Arbitrary<SocketCase> {
  const name = fc
    .oneof(
      fc.constantFrom(
        ...['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'error', 'SEND_MESSAGE', 'send_message ', 'typing\u0000', ''],
      ),
      hostileString(20),
      fc.integer(),
    )
    .filter((n) => typeof n === 'number' || !CLIENT_RESERVED.includes(n));
  return fc.tuple(name, fc.array(hostile.map(asParsed), { maxLength: 3 }), fc.boolean()).map(([event, args, ack]) => ({ event, args, ack }));
}

const packetBytes = (c: SocketCase) => Buffer.byteLength(JSON.stringify([c.event, ...c.args]) ?? '');

/**
 * Any event with any payload, and events nobody handles, in packets under `maxPacketBytes` (the
 * server closes the connection on bigger ones, by design).
 */
export function socketCases(w: FuzzWorld, maxPacketBytes: number): Arbitrary<SocketCase> {
  const hostile = hostileValue({ ids: w.ids, oversize: 8000, binary: true });
  return fc
    .oneof(...events(w).map((spec) => casesFor(spec, hostile)), unknownCases(hostile))
    .filter((c) => packetBytes(c) < maxPacketBytes);
}
