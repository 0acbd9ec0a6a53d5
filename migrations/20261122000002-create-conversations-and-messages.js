'use strict';

// Schema notes (see docs/data-model.md):
// - one row per unordered pair: participant_1_id < participant_2_id plus a unique index;
// - per-participant unread counters, changed in the same transaction as every message write, so
//   unread counts are O(1) reads;
// - last_activity_at = newest remaining message, or created_at while empty; with (participant, activity, id)
//   indexes a user's conversation list is a keyset index scan;
// - timestamps keep milliseconds so they round-trip exactly through JavaScript Dates and cursors.
module.exports = {
  async up(queryInterface) {
    const sql = (text) => queryInterface.sequelize.query(text);
    await sql(`
      CREATE TABLE conversations (
        id                   SERIAL PRIMARY KEY,
        participant_1_id     INTEGER NOT NULL,
        participant_2_id     INTEGER NOT NULL,
        last_message_id      BIGINT,
        last_message_at      TIMESTAMPTZ(3),
        last_activity_at     TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
        participant_1_unread INTEGER NOT NULL DEFAULT 0,
        participant_2_unread INTEGER NOT NULL DEFAULT 0,
        created_at           TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
        updated_at           TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
        CONSTRAINT conversations_ordered_pair CHECK (participant_1_id < participant_2_id),
        CONSTRAINT conversations_unread_not_negative CHECK (participant_1_unread >= 0 AND participant_2_unread >= 0)
      )`);
    await sql('CREATE UNIQUE INDEX conversations_pair_unique ON conversations (participant_1_id, participant_2_id)');
    await sql('CREATE INDEX conversations_participant_1_activity ON conversations (participant_1_id, last_activity_at, id)');
    await sql('CREATE INDEX conversations_participant_2_activity ON conversations (participant_2_id, last_activity_at, id)');
    await sql('CREATE INDEX conversations_participant_1_unread ON conversations (participant_1_id) WHERE participant_1_unread > 0');
    await sql('CREATE INDEX conversations_participant_2_unread ON conversations (participant_2_id) WHERE participant_2_unread > 0');

    await sql(`
      CREATE TABLE messages (
        id                BIGSERIAL PRIMARY KEY,
        conversation_id   INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        sender_id         INTEGER NOT NULL,
        receiver_id       INTEGER NOT NULL,
        content           TEXT NOT NULL DEFAULT '',
        client_message_id VARCHAR(100),
        is_read           BOOLEAN NOT NULL DEFAULT false,
        read_at           TIMESTAMPTZ(3),
        delivered_at      TIMESTAMPTZ(3),
        created_at        TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
        updated_at        TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
        deleted_at        TIMESTAMPTZ(3),
        deleted_by        INTEGER,
        search_vector     TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', content)) STORED
      )`);
    // Durable dedupe of retries: one message per (sender, clientMessageId), deleted ones included.
    await sql(`CREATE UNIQUE INDEX messages_sender_client_message_unique ON messages (sender_id, client_message_id)
               WHERE client_message_id IS NOT NULL`);
    await sql('CREATE INDEX messages_history ON messages (conversation_id, id) WHERE deleted_at IS NULL');
    await sql(`CREATE INDEX messages_unread ON messages (conversation_id, receiver_id, id)
               WHERE NOT is_read AND deleted_at IS NULL`);
    await sql(`CREATE INDEX messages_undelivered ON messages (conversation_id, receiver_id, id)
               WHERE delivered_at IS NULL AND deleted_at IS NULL`);
    await sql('CREATE INDEX messages_search ON messages USING GIN (search_vector) WHERE deleted_at IS NULL');
    await sql(`ALTER TABLE conversations ADD CONSTRAINT conversations_last_message_fk
               FOREIGN KEY (last_message_id) REFERENCES messages (id) ON DELETE SET NULL`);
  },

  async down(queryInterface) {
    await queryInterface.sequelize.query('ALTER TABLE conversations DROP CONSTRAINT conversations_last_message_fk');
    await queryInterface.dropTable('messages');
    await queryInterface.dropTable('conversations');
  },
};
