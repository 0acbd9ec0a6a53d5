import { AppError } from '../shared/errors';

export const DEFAULT_QUOTA_BYTES = 1024 * 1024 * 1024;

export const quotaExceeded = (quotaBytes: number) =>
  new AppError('PAYLOAD_TOO_LARGE', `The upload would take your stored attachments past your quota of ${quotaBytes} bytes`);

/** One upload's hold on its uploader's quota while it is in progress. */
export interface UploadClaim {
  /** Raises the claim to the bytes streamed so far (it never shrinks); PAYLOAD_TOO_LARGE past the quota. */
  grow(totalBytes: number): void;
  /** Bytes the uploader's other uploads in progress hold. */
  othersBytes(): number;
  /** Gives the bytes back; later calls do nothing. */
  release(): void;
}

/**
 * Bytes claimed per user by the uploads this process is receiving. A claim starts at what the
 * request announces and grows with what it streams, and every claim is checked against the
 * user's stored bytes plus all their claims, so parallel uploads cannot together pass the quota
 * while they stream. The database, checked under a lock before the row is written, stays the
 * authority on what is stored.
 */
export class UploadReservations {
  private readonly claimed = new Map<number, number>();

  constructor(readonly quotaBytes: number) {}

  /** Bytes held by the user's uploads in progress. */
  claimedBy(userId: number): number {
    return this.claimed.get(userId) ?? 0;
  }

  /** Claims `bytes` for a new upload of a user whose stored attachments take `storedBytes`. */
  claim(userId: number, storedBytes: number, bytes: number): UploadClaim {
    this.take(userId, storedBytes, bytes);
    let held = bytes;
    let released = false;
    return {
      grow: (totalBytes) => {
        if (released || totalBytes <= held) return;
        this.take(userId, storedBytes, totalBytes - held);
        held = totalBytes;
      },
      othersBytes: () => this.claimedBy(userId) - (released ? 0 : held),
      release: () => {
        if (released) return;
        released = true;
        this.give(userId, held);
      },
    };
  }

  private take(userId: number, storedBytes: number, bytes: number): void {
    const total = this.claimedBy(userId) + bytes;
    if (storedBytes + total > this.quotaBytes) throw quotaExceeded(this.quotaBytes);
    this.claimed.set(userId, total);
  }

  private give(userId: number, bytes: number): void {
    const left = this.claimedBy(userId) - bytes;
    if (left > 0) this.claimed.set(userId, left);
    else this.claimed.delete(userId);
  }
}
