'use strict';

// Who deleted, restored or purged which message, when and why. Append-only: a trigger refuses
// UPDATE and DELETE, so not even a bug in Duet can rewrite history. Entries never hold content.
module.exports = {
  async up(queryInterface) {
    const sql = (text) => queryInterface.sequelize.query(text);
    await sql(`
      CREATE TABLE audit_log (
        id              BIGSERIAL PRIMARY KEY,
        action          VARCHAR(32) NOT NULL CHECK (action IN ('message.deleted', 'message.restored', 'message.purged')),
        actor_id        INTEGER NOT NULL,
        message_id      BIGINT NOT NULL,
        conversation_id INTEGER NOT NULL,
        reason          VARCHAR(500),
        at              TIMESTAMPTZ(3) NOT NULL DEFAULT now()
      )`);
    await sql('CREATE INDEX audit_log_message ON audit_log (message_id, id)');
    await sql('CREATE INDEX audit_log_actor ON audit_log (actor_id, id)');
    await sql(`
      CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only';
      END $$`);
    await sql(`CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
               FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only()`);
    // The admin list of deleted messages, newest first, with or without a conversation.
    await sql('CREATE INDEX messages_deleted ON messages (id) WHERE deleted_at IS NOT NULL');
    await sql('CREATE INDEX messages_deleted_by_conversation ON messages (conversation_id, id) WHERE deleted_at IS NOT NULL');
  },

  async down(queryInterface) {
    const sql = (text) => queryInterface.sequelize.query(text);
    await sql('DROP INDEX messages_deleted_by_conversation');
    await sql('DROP INDEX messages_deleted');
    await sql('DROP TABLE audit_log');
    await sql('DROP FUNCTION audit_log_is_append_only()');
  },
};
