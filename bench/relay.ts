import { createSecretKey } from 'node:crypto';
import http from 'node:http';
import jwt from 'jsonwebtoken';
import { Server } from 'socket.io';

/**
 * The baseline: the least a Socket.IO chat server can do for one message. Same handshake auth
 * (HS256, same secret), same rooms (user_<id>), same events and ack shape as Duet, but no
 * database, no validation schemas and no conversation view. Every Duet figure is set beside this.
 */
const port = Number(process.env.PORT ?? 0);
// A KeyObject made once, as Duet does: jsonwebtoken would otherwise rebuild it on every verify.
const secret = createSecretKey(Buffer.from(process.env.JWT_SECRET ?? '', 'utf8'));

const server = http.createServer((req, res) => {
  res.writeHead(req.url === '/ready' ? 200 : 404).end();
});
// Like Duet's gateway: no per-message deflate, 64 KiB payload cap.
const io = new Server(server, { perMessageDeflate: false, maxHttpBufferSize: 64 * 1024 });

io.use((socket, next) => {
  try {
    const claims = jwt.verify(String(socket.handshake.auth?.token ?? ''), secret, { algorithms: ['HS256'] });
    const userId = typeof claims === 'object' ? Number(claims.sub) : NaN;
    if (!Number.isSafeInteger(userId)) throw new Error('bad sub');
    socket.data.userId = userId;
    next();
  } catch {
    next(Object.assign(new Error('unauthorized'), { data: { code: 'UNAUTHORIZED' } }));
  }
});

let nextId = 1;
io.on('connection', (socket) => {
  const senderId = socket.data.userId as number;
  void socket.join(`user_${senderId}`);
  socket.on('send_message', (payload: { receiverId?: unknown; content?: unknown; clientMessageId?: unknown }, ack?: (r: object) => void) => {
    const receiverId = Number(payload?.receiverId);
    if (!Number.isSafeInteger(receiverId) || typeof payload.content !== 'string') {
      ack?.({ ok: false, error: { code: 'VALIDATION_FAILED', message: 'receiverId and content are required' } });
      return;
    }
    const now = new Date().toISOString();
    const message = {
      id: nextId++, conversationId: 0, senderId, receiverId, content: payload.content,
      clientMessageId: typeof payload.clientMessageId === 'string' ? payload.clientMessageId : null,
      createdAt: now, updatedAt: now,
    };
    // One emit to both rooms: each socket of either user gets it once, as with Duet.
    io.to([`user_${senderId}`, `user_${receiverId}`]).emit('new_message', { message });
    ack?.({ ok: true, message });
  });
});

server.listen(port, '127.0.0.1');
const stop = () => io.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
