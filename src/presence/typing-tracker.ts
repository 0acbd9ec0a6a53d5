interface TypingState {
  otherUserId: number;
  socketId: string;
  timer: NodeJS.Timeout;
}

export type TypingPublisher = (event: { conversationId: number; userId: number; otherUserId: number; isTyping: boolean }) => void;

/**
 * Who is typing where. Memory only (no database writes), and only changes are published: a
 * `typing` every keystroke announces once, then just pushes the expiry back.
 */
export class TypingTracker {
  private readonly typing = new Map<string, TypingState>();

  constructor(
    private readonly ttlMs: number,
    private readonly publish: TypingPublisher,
  ) {}

  start(conversationId: number, userId: number, otherUserId: number, socketId: string): void {
    const key = `${conversationId}:${userId}`;
    const current = this.typing.get(key);
    if (current) clearTimeout(current.timer);
    const timer = setTimeout(() => this.stop(conversationId, userId), this.ttlMs);
    timer.unref();
    this.typing.set(key, { otherUserId, socketId, timer });
    if (!current) this.publish({ conversationId, userId, otherUserId, isTyping: true });
  }

  stop(conversationId: number, userId: number): void {
    const key = `${conversationId}:${userId}`;
    const current = this.typing.get(key);
    if (!current) return;
    clearTimeout(current.timer);
    this.typing.delete(key);
    this.publish({ conversationId, userId, otherUserId: current.otherUserId, isTyping: false });
  }

  /** A socket went away: whatever it was typing stops. */
  socketGone(socketId: string): void {
    for (const [key, state] of this.typing) {
      if (state.socketId !== socketId) continue;
      const [conversationId, userId] = key.split(':').map(Number) as [number, number];
      this.stop(conversationId, userId);
    }
  }

  close(): void {
    for (const state of this.typing.values()) clearTimeout(state.timer);
    this.typing.clear();
  }
}
