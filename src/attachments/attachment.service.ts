import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Principal } from '../auth/token-verifier';
import type { Sql } from '../db/sql';
import { AppError, notFound } from '../shared/errors';
import type { Logger } from '../shared/logger';
import { type AttachmentJson, toAttachmentJson } from './attachment.presenter';
import type { AttachmentRecord, AttachmentRepository } from './attachment.repository';
import type { AttachmentStorage, SpooledFile } from './attachment-storage';
import { nameContradicts, sanitizeFileName } from './content-type';
import { quotaExceeded, type UploadClaim, UploadReservations } from './upload-reservations';

export interface AttachmentServiceDeps {
  sql: Sql;
  repository: AttachmentRepository;
  storage: AttachmentStorage;
  allowedTypes: readonly string[];
  /** What one user's stored attachments may take, in bytes. */
  quotaBytes: number;
  logger: Logger;
}

/** An upload in a temporary file, with the type its bytes showed (content-type.ts). */
export interface UploadedFile extends SpooledFile {
  mimeType: string;
  originalName?: string;
}

export interface Download {
  attachment: AttachmentRecord;
  stream: Readable;
}

/** Upload, private download and clean-up of message attachments. */
export class AttachmentService {
  private readonly reservations: UploadReservations;

  constructor(private readonly deps: AttachmentServiceDeps) {
    this.reservations = new UploadReservations(deps.quotaBytes);
  }

  /**
   * Admits an upload that will take about `expectedBytes` (0 when unknown) before its body is
   * read: PAYLOAD_TOO_LARGE when the user's quota cannot hold it next to their other uploads in
   * progress. Pass the claim to upload(), or release it.
   */
  async reserveUpload(uploaderId: number, expectedBytes: number): Promise<UploadClaim> {
    return this.reservations.claim(uploaderId, await this.deps.repository.storedBytes(uploaderId), expectedBytes);
  }

  /**
   * Stores an upload whose type, decided by its bytes, is on the allow-list and which fits the
   * uploader's quota. The caller removes whatever is left of the file afterwards.
   */
  async upload(uploaderId: number, file: UploadedFile, claim?: UploadClaim): Promise<{ attachment: AttachmentJson }> {
    try {
      const name = sanitizeFileName(file.originalName);
      if (!this.deps.allowedTypes.includes(file.mimeType) || nameContradicts(name, file.mimeType)) {
        throw new AppError('UNSUPPORTED_MEDIA_TYPE', `Files of this type cannot be attached (allowed: ${this.deps.allowedTypes.join(', ')})`);
      }
      const storageKey = randomBytes(16).toString('hex');
      await this.deps.storage.save(storageKey, file);
      try {
        const stored = await this.insertWithinQuota({ uploaderId, storageKey, name, mimeType: file.mimeType, size: file.size }, claim);
        return { attachment: toAttachmentJson(stored) };
      } catch (err) {
        await this.deps.storage.remove(storageKey);
        throw err;
      }
    } finally {
      claim?.release();
    }
  }

  /**
   * Under the user's quota lock: their stored bytes, plus what their other uploads in progress
   * claim, plus this file must fit. The claim is released before the commit, once the row counts
   * in its place, so a concurrent check sees the bytes exactly once.
   */
  private insertWithinQuota(record: Omit<AttachmentRecord, 'id' | 'createdAt'>, claim: UploadClaim | undefined): Promise<AttachmentRecord> {
    const { repository, sql, quotaBytes } = this.deps;
    return sql.transaction(async (transaction) => {
      await repository.lockQuota(record.uploaderId, transaction);
      const stored = await repository.storedBytes(record.uploaderId, transaction);
      const others = claim ? claim.othersBytes() : this.reservations.claimedBy(record.uploaderId);
      if (stored + others + record.size > quotaBytes) throw quotaExceeded(quotaBytes);
      const inserted = await repository.insert(record, transaction);
      claim?.release();
      return inserted;
    });
  }

  /**
   * The bytes, for the uploader (before the file is sent), the participants of the message it was
   * sent in while that message is not deleted, and admins. Everyone else: NOT_FOUND.
   */
  async download(principal: Principal, attachmentId: number): Promise<Download> {
    const found = await this.deps.repository.findWithMessage(attachmentId);
    if (!found || !this.mayRead(principal, found)) throw notFound('Attachment not found');
    try {
      return { attachment: found, stream: await this.deps.storage.open(found.storageKey) };
    } catch {
      this.deps.logger.error('attachment bytes missing', { attachmentId });
      throw notFound('Attachment not found');
    }
  }

  /** Removes an attachment's row and bytes (its message has been purged). */
  async remove(attachmentId: number): Promise<void> {
    const removed = await this.deps.repository.remove(attachmentId);
    if (removed) await this.deps.storage.remove(removed.storageKey);
  }

  /** Deletes uploads that were never attached within `maxAgeMs`. Returns how many. */
  async removeOrphans(maxAgeMs: number, now = new Date()): Promise<number> {
    let removed = 0;
    for (;;) {
      const batch = await this.deps.repository.findOrphans(new Date(now.getTime() - maxAgeMs), 500);
      for (const orphan of batch) {
        if (await this.deps.repository.removeIfUnsent(orphan.id)) await this.deps.storage.remove(orphan.storageKey);
      }
      removed += batch.length;
      if (batch.length < 500) return removed;
    }
  }

  private mayRead(principal: Principal, found: NonNullable<Awaited<ReturnType<AttachmentRepository['findWithMessage']>>>): boolean {
    if (principal.isAdmin) return true;
    if (!found.message) return found.uploaderId === principal.userId;
    if (found.message.deleted) return false;
    return found.message.senderId === principal.userId || found.message.receiverId === principal.userId;
  }
}
