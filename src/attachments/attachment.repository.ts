import { Sql, toDate, toNumber, type Transaction } from '../db/sql';

export interface AttachmentRecord {
  id: number;
  uploaderId: number;
  storageKey: string;
  name: string;
  mimeType: string;
  size: number;
  createdAt: Date;
}

/** An attachment with the message it was sent in, if any (deleted messages included). */
export interface AttachmentWithMessage extends AttachmentRecord {
  message: { id: number; senderId: number; receiverId: number; deleted: boolean } | null;
}

const COLUMNS = 'a.id, a.uploader_id, a.storage_key, a.name, a.mime_type, a.size, a.created_at';

function toAttachment(row: Record<string, unknown>): AttachmentRecord {
  return {
    id: toNumber(row.id),
    uploaderId: toNumber(row.uploader_id),
    storageKey: String(row.storage_key),
    name: String(row.name),
    mimeType: String(row.mime_type),
    size: toNumber(row.size),
    createdAt: toDate(row.created_at),
  };
}

export class AttachmentRepository {
  constructor(private readonly sql: Sql) {}

  async insert(attachment: Omit<AttachmentRecord, 'id' | 'createdAt'>, transaction?: Transaction): Promise<AttachmentRecord> {
    const row = await this.sql.row(
      `INSERT INTO attachments AS a (uploader_id, storage_key, name, mime_type, size) VALUES ($1, $2, $3, $4, $5)
       RETURNING ${COLUMNS}`,
      [attachment.uploaderId, attachment.storageKey, attachment.name, attachment.mimeType, attachment.size],
      transaction,
    );
    return toAttachment(row!);
  }

  /** What the user's attachments take: every row that still exists (unsent, sent, or in a soft-deleted message). */
  async storedBytes(uploaderId: number, transaction?: Transaction): Promise<number> {
    const row = await this.sql.row('SELECT COALESCE(sum(size), 0) AS bytes FROM attachments WHERE uploader_id = $1', [uploaderId], transaction);
    return toNumber(row!.bytes);
  }

  /**
   * Holds the user's quota lock until the transaction ends, so that checking the stored bytes and
   * inserting happen one upload at a time per user, on every node.
   */
  async lockQuota(uploaderId: number, transaction: Transaction): Promise<void> {
    await this.sql.row(`SELECT pg_advisory_xact_lock(hashtext('duet.attachment_quota'), $1::int)`, [uploaderId], transaction);
  }

  async findWithMessage(id: number): Promise<AttachmentWithMessage | undefined> {
    const row = await this.sql.row(
      `SELECT ${COLUMNS}, m.id AS message_id, m.sender_id, m.receiver_id, m.deleted_at IS NOT NULL AS message_deleted
         FROM attachments a LEFT JOIN messages m ON m.attachment_id = a.id
        WHERE a.id = $1`,
      [id],
    );
    if (!row) return undefined;
    return {
      ...toAttachment(row),
      message:
        row.message_id === null
          ? null
          : {
              id: toNumber(row.message_id),
              senderId: toNumber(row.sender_id),
              receiverId: toNumber(row.receiver_id),
              deleted: Boolean(row.message_deleted),
            },
    };
  }

  async remove(id: number, transaction?: Transaction): Promise<AttachmentRecord | undefined> {
    const row = await this.sql.row(`DELETE FROM attachments a WHERE a.id = $1 RETURNING ${COLUMNS}`, [id], transaction);
    return row && toAttachment(row);
  }

  /** Deletes the upload only if still no message points at it (a send may have claimed it meanwhile). */
  async removeIfUnsent(id: number): Promise<AttachmentRecord | undefined> {
    const row = await this.sql.row(
      `DELETE FROM attachments a WHERE a.id = $1 AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.attachment_id = a.id)
       RETURNING ${COLUMNS}`,
      [id],
    );
    return row && toAttachment(row);
  }

  /** Uploads older than the cut-off that no message points at. */
  async findOrphans(olderThan: Date, limit: number): Promise<AttachmentRecord[]> {
    const rows = await this.sql.rows(
      `SELECT ${COLUMNS} FROM attachments a
        WHERE a.created_at < $1 AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.attachment_id = a.id)
        ORDER BY a.created_at LIMIT $2`,
      [olderThan, limit],
    );
    return rows.map(toAttachment);
  }
}
