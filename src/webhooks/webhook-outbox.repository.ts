import { Conditions, prepared, type Sql, type Transaction, toDate, toNullableDate, toNumber } from '../db/sql';
import type { NewWebhookEvent, WebhookEventType } from './webhook-events';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';
export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'delivered', 'failed'];

/** A row a worker has claimed for one attempt. */
export interface ClaimedDelivery {
  seq: number;
  /** The webhook-id. */
  id: string;
  type: WebhookEventType;
  /** As stored: message.created holds row snapshots, rendered at delivery (webhook-renderer.ts). */
  data: Record<string, unknown>;
  /** This attempt's number (1 = the first); also the claim's fencing token. */
  attempts: number;
  createdAt: Date;
  queuedAt: Date;
}

/** What one attempt came to. */
export type AttemptOutcome =
  | { seq: number; attempts: number; status: 'delivered' }
  | { seq: number; attempts: number; status: 'pending'; error: string; nextAttemptAt: Date }
  | { seq: number; attempts: number; status: 'failed'; error: string };

export interface DeliveryJson {
  id: string;
  type: WebhookEventType;
  status: DeliveryStatus;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

const DELIVERY_COLUMNS = 'id, type, status, attempts, last_error, created_at, delivered_at';

const toDeliveryJson = (row: Record<string, unknown>): DeliveryJson => ({
  id: String(row.id),
  type: row.type as WebhookEventType,
  status: row.status as DeliveryStatus,
  attempts: toNumber(row.attempts),
  lastError: (row.last_error as string | null) ?? null,
  createdAt: toDate(row.created_at).toISOString(),
  deliveredAt: toNullableDate(row.delivered_at)?.toISOString() ?? null,
});

const ADD = prepared(`INSERT INTO webhook_deliveries (type, data, message_id)
  SELECT type, data, message_id FROM json_to_recordset($1::json) AS e(type varchar, data jsonb, message_id bigint)`);

/**
 * Claims up to $1 due rows for one attempt each, oldest due first. SKIP LOCKED lets the workers of
 * every node claim at once without waiting for (or taking) each other's rows; the lease ($2 ms,
 * longer than an attempt may take) keeps a claimed row from being claimed again, and if its node
 * dies mid-attempt, the row is due again once the lease is over.
 */
const CLAIM = prepared(`UPDATE webhook_deliveries d
     SET attempts = d.attempts + 1, next_attempt_at = now() + $2 * interval '1 millisecond'
    FROM (SELECT seq FROM webhook_deliveries
           WHERE status = 'pending' AND next_attempt_at <= now()
           ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED) AS due
   WHERE d.seq = due.seq
  RETURNING d.seq, d.id, d.type, d.data, d.attempts, d.created_at, d.queued_at`);

/**
 * Records the outcomes of many attempts in one statement. A row counts only for the claim that
 * made the attempt (same `attempts`, still pending): a worker that outlived its lease cannot undo
 * a newer claim's result.
 */
const SETTLE = prepared(`UPDATE webhook_deliveries d
     SET status = r.status, last_error = coalesce(r.error, d.last_error),
         next_attempt_at = coalesce(r.next_attempt_at, d.next_attempt_at),
         delivered_at = CASE WHEN r.status = 'delivered' THEN now() ELSE d.delivered_at END
    FROM json_to_recordset($1::json) AS r(seq bigint, attempts int, status varchar, error text, next_attempt_at timestamptz)
   WHERE d.seq = r.seq AND d.attempts = r.attempts AND d.status = 'pending'`);

/** The outbox table (docs/data-model.md, "webhook_deliveries"). */
export class WebhookOutboxRepository {
  constructor(private readonly sql: Sql) {}

  async add(events: readonly NewWebhookEvent[], transaction: Transaction): Promise<void> {
    if (!events.length) return;
    const rows = events.map((e) => ({ type: e.type, data: e.data, message_id: e.carriesMessageId ?? null }));
    await this.sql.rows(ADD, [JSON.stringify(rows)], transaction);
  }

  async eraseMessage(messageId: number, transaction: Transaction): Promise<void> {
    await this.sql.rows('DELETE FROM webhook_deliveries WHERE message_id = $1', [messageId], transaction);
  }

  async claim(limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    const rows = await this.sql.rows(CLAIM, [limit, leaseMs]);
    return rows.map((row) => ({
      seq: toNumber(row.seq),
      id: String(row.id),
      type: row.type as WebhookEventType,
      data: row.data as Record<string, unknown>,
      attempts: toNumber(row.attempts),
      createdAt: toDate(row.created_at),
      queuedAt: toDate(row.queued_at),
    }));
  }

  async settle(outcomes: readonly AttemptOutcome[]): Promise<void> {
    if (!outcomes.length) return;
    const rows = outcomes.map((o) => ({
      seq: o.seq,
      attempts: o.attempts,
      status: o.status,
      error: o.status === 'delivered' ? null : o.error,
      next_attempt_at: o.status === 'pending' ? o.nextAttemptAt.toISOString() : null,
    }));
    await this.sql.rows(SETTLE, [JSON.stringify(rows)]);
  }

  /** Newest first; `before` is a delivery id: the page starts after it (an id not found gives an empty page). */
  async list(filter: { status?: DeliveryStatus; before?: string; limit: number }): Promise<DeliveryJson[]> {
    const where = new Conditions();
    if (filter.status) where.add((p) => `status = ${p}`, filter.status);
    if (filter.before) where.add((p) => `seq < (SELECT seq FROM webhook_deliveries WHERE id = ${p}::uuid)`, filter.before);
    const limit = where.param(filter.limit);
    const rows = await this.sql.rows(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries ${where} ORDER BY seq DESC LIMIT ${limit}`, where.bind);
    return rows.map(toDeliveryJson);
  }

  /**
   * Queues a delivered or failed event again under the same id: attempts start over and the retry
   * window runs from now. Returns the row as it was found (its old status) and as it is now.
   */
  async requeue(id: string): Promise<{ was: DeliveryStatus; delivery?: DeliveryJson } | undefined> {
    return this.sql.transaction(async (transaction) => {
      const found = await this.sql.row<{ status: DeliveryStatus }>('SELECT status FROM webhook_deliveries WHERE id = $1::uuid FOR UPDATE', [id], transaction);
      if (!found) return undefined;
      if (found.status === 'pending') return { was: found.status };
      const row = await this.sql.row(
        `UPDATE webhook_deliveries
            SET status = 'pending', attempts = 0, next_attempt_at = now(), queued_at = now(), delivered_at = NULL
          WHERE id = $1::uuid RETURNING ${DELIVERY_COLUMNS}`,
        [id],
        transaction,
      );
      return { was: found.status, delivery: toDeliveryJson(row!) };
    });
  }

  /** The backlog: events not yet delivered nor failed. */
  async pendingCount(): Promise<number> {
    const row = await this.sql.row<{ n: string }>("SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'pending'");
    return Number(row?.n ?? 0);
  }
}
