'use strict';

// The webhook outbox (docs/data-model.md, "webhook_deliveries"): each event is written in the
// transaction of the change it reports, and the delivery workers of every node claim due rows with
// FOR UPDATE SKIP LOCKED. Expand-only: a new table that older nodes never read.
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.query(`
      CREATE TABLE IF NOT EXISTS webhook_deliveries (
        seq bigserial PRIMARY KEY,
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        type varchar(40) NOT NULL,
        data jsonb NOT NULL,
        message_id bigint,
        status varchar(16) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        queued_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz,
        CONSTRAINT webhook_deliveries_id_unique UNIQUE (id)
      )`);
    // What a worker claims: pending rows that are due, oldest first. Small, as delivered rows leave it.
    await queryInterface.sequelize.query(
      "CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'",
    );
    // A purge erases the message's text from the events that carry it (message.created, message.restored).
    await queryInterface.sequelize.query(
      'CREATE INDEX IF NOT EXISTS webhook_deliveries_by_message ON webhook_deliveries (message_id) WHERE message_id IS NOT NULL',
    );
    // The admin list by status, newest first.
    await queryInterface.sequelize.query('CREATE INDEX IF NOT EXISTS webhook_deliveries_by_status ON webhook_deliveries (status, seq)');
  },

  async down(queryInterface) {
    await queryInterface.sequelize.query('DROP TABLE IF EXISTS webhook_deliveries');
  },
};
