import { decode, encode } from '@msgpack/msgpack';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import type { Redis } from 'ioredis';
import { type ClusterMessage, MessageType, type Session } from 'socket.io-adapter';
import { isReplayed } from '../realtime/recovery-buffer';
import type { RedisLink } from './redis-link';

/*
 * @socket.io/redis-streams-adapter (pinned, 0.3.1), with three changes made on each adapter
 * instance. This module is the only code that knows the adapter's insides; the test
 * tests/integration/cluster-adapter.test.ts fails if they change underneath it.
 * 1. `presence` and `user_typing` cross nodes by PUB/SUB, never into the stream: they are never
 *    replayed (API.md), so they must not push message events out of what the stream retains.
 * 2. The stream keeps about `maxEntries` entries and restoring a session reads at most what it
 *    keeps: a reconnect storm after a node stops must not stall the surviving nodes. A client
 *    further behind is not recovered and catches up with after= (API.md, "Clarifications").
 * 4. Everything else the adapter sends by PUB/SUB goes out here too, with its failure handled:
 *    the adapter drops those promises, and a rejected one (Redis away) would end the process.
 * 3. A session is not kept when it must not be recovered (sockets closed on rejoining after a
 *    Redis outage: the stream misses what could not cross meanwhile), nor when Redis is away; and
 *    one kept before an outage is not restored after it: each session carries the cluster's
 *    outage epoch, which every rejoin moves on.
 */

export interface StreamsAdapterOptions {
  /** Stream entries kept: the reach of recovery across nodes, and what restoring a session may read. */
  maxEntries: number;
}

/**
 * Redis trims a stream with MAXLEN ~ in whole nodes of entries (stream-node-max-entries, 100 by
 * default), so it may keep up to this many more than asked.
 */
const TRIM_SLACK = 100;

/** The adapter's own members this module replaces or calls (socket.io-adapter's ClusterAdapter). */
interface AdapterInsides {
  nsp: { name: string; server: { opts: { connectionStateRecovery: { maxDisconnectionDuration: number } } } };
  uid: string;
  doPublish(message: ClusterMessage): Promise<string>;
  addOffsetIfNecessary(packet: unknown, opts: unknown, offset: string | undefined): void;
  persistSession(session: Session): void;
  restoreSession(pid: string, offset: string): Promise<Session>;
  constructor: { decode(raw: Record<string, string>): { data: unknown } };
}

interface BroadcastData {
  packet: { data: unknown[] };
  opts: { rooms: string[]; except: string[] };
}

export interface ClusterSocketAdapter {
  /** Socket.IO's `adapter` option. */
  adapter: ReturnType<typeof createAdapter>;
  /** The session of this socket id is not kept when it next disconnects. */
  forgetSession(socketId: string): void;
  /** After an outage: no session kept before it is restored, on any node. */
  endEpoch(): Promise<void>;
}

type EpochSession = Session & { epoch?: string | null };

export function clusterSocketAdapter(link: RedisLink, options: StreamsAdapterOptions): ClusterSocketAdapter {
  const prefix = link.settings.keyPrefix;
  const names = { streamName: `${prefix}socket.io`, channelPrefix: `${prefix}socket.io`, sessionKeyPrefix: `${prefix}sio:session:` };
  // The adapter duplicates the client it is given for its blocking reader and its subscriber;
  // those must wait out an outage, whereas publishing must fail at once (redis-link.ts).
  const publisher: Redis = link.client;
  publisher.duplicate = () => {
    const reader = link.reader();
    // The adapter subscribes without handling a failure: one (the link closed first) is no error.
    const subscribe = reader.subscribe.bind(reader) as (...channels: string[]) => Promise<unknown>;
    reader.subscribe = ((...channels: string[]) => subscribe(...channels).catch(() => undefined)) as Redis['subscribe'];
    return reader;
  };
  // Made on first use: a reader polls from the moment the adapter exists.
  let create: ReturnType<typeof createAdapter> | undefined;
  const forgotten = new Set<string>();
  const epochKey = `${prefix}sio:epoch`;
  const maxReplay = options.maxEntries + TRIM_SLACK;

  // Socket.IO calls it with `new`: a function, not an arrow, and what it returns is the instance.
  const factory = function streamsAdapter(nsp: unknown) {
    create ??= createAdapter(publisher, { ...names, maxLen: options.maxEntries, onlyPlaintext: true });
    const instance = create(nsp);
    const adapter = instance as unknown as AdapterInsides;
    const publicChannel = `${names.channelPrefix}#${adapter.nsp.name}#`;

    const doPublish = adapter.doPublish.bind(adapter);
    adapter.doPublish = (message) => {
      if (bySubscription(message)) return link.client.publish(publicChannel, Buffer.from(encode(message))).then(() => '');
      return doPublish(message);
    };
    const addOffset = adapter.addOffsetIfNecessary.bind(adapter);
    // No offset: the event went by PUB/SUB or could not be published; the client keeps its last one.
    adapter.addOffsetIfNecessary = (packet, opts, offset) => offset && addOffset(packet, opts, offset);

    adapter.persistSession = (session) => {
      if (forgotten.delete(session.sid) || !link.isUp) return;
      const ttlMs = adapter.nsp.server.opts.connectionStateRecovery.maxDisconnectionDuration;
      void link.client
        .get(epochKey)
        .then((epoch) => {
          const value = Buffer.from(encode({ ...session, epoch } satisfies EpochSession)).toString('base64');
          return link.client.set(`${names.sessionKeyPrefix}${session.pid}`, value, 'PX', ttlMs);
        })
        .catch(() => undefined);
    };

    adapter.restoreSession = async (pid, offset) => {
      if (!/^\d+-\d+$/.test(offset)) throw new Error('invalid offset');
      const client = link.client;
      const [stored, known, epoch] = await Promise.all([
        client.getdel(`${names.sessionKeyPrefix}${pid}`),
        client.xrange(names.streamName, offset, offset),
        client.get(epochKey),
      ]);
      if (!stored || known.length === 0) throw new Error('session or offset not found');
      const { epoch: keptIn, ...session } = decode(Buffer.from(stored, 'base64')) as EpochSession;
      if (keptIn !== epoch) throw new Error('session kept before an outage');
      const entries = await client.xrange(names.streamName, `(${offset}`, '+', 'COUNT', maxReplay + 1);
      if (entries.length > maxReplay) throw new Error('too far behind to replay');
      session.missedPackets = [];
      for (const [id, fields] of entries) {
        const raw = fieldsOf(fields);
        if (raw.nsp !== adapter.nsp.name || Number(raw.type) !== MessageType.BROADCAST) continue;
        const { packet, opts } = adapter.constructor.decode(raw).data as BroadcastData;
        if (reaches(session.rooms, opts)) session.missedPackets.push([...packet.data, id]);
      }
      return session;
    };
    return instance;
  } as ReturnType<typeof createAdapter>;

  return {
    adapter: factory,
    forgetSession: (socketId) => forgotten.add(socketId),
    endEpoch: async () => {
      await link.client.incr(epochKey);
    },
  };
}

/** What crosses by PUB/SUB: events never replayed, and the adapter's requests (the adapter's own isEphemeral). */
function bySubscription(message: ClusterMessage): boolean {
  if (message.type === MessageType.SERVER_SIDE_EMIT || message.type === MessageType.FETCH_SOCKETS) return true;
  if (message.type !== MessageType.BROADCAST) return false;
  const data = message.data as unknown as BroadcastData & { requestId?: string };
  return data.requestId !== undefined || !isReplayed(data.packet);
}

function fieldsOf(flat: string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
  return fields;
}

/** Whether a broadcast to these rooms reached a socket that was in `rooms`. */
function reaches(rooms: string[], opts: BroadcastData['opts']): boolean {
  return (opts.rooms.length === 0 || rooms.some((room) => opts.rooms.includes(room))) && rooms.every((room) => !opts.except.includes(room));
}
