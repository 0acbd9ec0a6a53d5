import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Principal } from '../auth/token-verifier';
import { AppError, notFound } from '../shared/errors';
import type { Logger } from '../shared/logger';
import { type AttachmentJson, toAttachmentJson } from './attachment.presenter';
import type { AttachmentRecord, AttachmentRepository } from './attachment.repository';
import type { AttachmentStorage } from './attachment-storage';
import { detectContentType, nameContradicts, sanitizeFileName } from './content-type';

export interface AttachmentServiceDeps {
  repository: AttachmentRepository;
  storage: AttachmentStorage;
  allowedTypes: readonly string[];
  logger: Logger;
}

export interface Download {
  attachment: AttachmentRecord;
  stream: Readable;
}

/** Upload, private download and clean-up of message attachments. */
export class AttachmentService {
  constructor(private readonly deps: AttachmentServiceDeps) {}

  /** Stores an upload whose type, decided by its bytes, is on the allow-list. */
  async upload(uploaderId: number, file: { bytes: Buffer; originalName?: string }): Promise<{ attachment: AttachmentJson }> {
    const name = sanitizeFileName(file.originalName);
    const mimeType = detectContentType(file.bytes);
    if (!this.deps.allowedTypes.includes(mimeType) || nameContradicts(name, mimeType)) {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', `Files of this type cannot be attached (allowed: ${this.deps.allowedTypes.join(', ')})`);
    }
    const storageKey = randomBytes(16).toString('hex');
    await this.deps.storage.save(storageKey, file.bytes);
    try {
      const stored = await this.deps.repository.insert({ uploaderId, storageKey, name, mimeType, size: file.bytes.length });
      return { attachment: toAttachmentJson(stored) };
    } catch (err) {
      await this.deps.storage.remove(storageKey);
      throw err;
    }
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
