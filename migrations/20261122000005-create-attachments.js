'use strict';

// Uploaded files. The bytes live in the attachment storage (local disk by default) under a
// server-generated key; this table holds who uploaded what. A message points at its attachment
// (at most one message per attachment) and keeps a copy of the attachment's display fields, which
// never change after upload, so history pages need no join.
module.exports = {
  async up(queryInterface) {
    const sql = (text) => queryInterface.sequelize.query(text);
    await sql(`
      CREATE TABLE attachments (
        id          BIGSERIAL PRIMARY KEY,
        uploader_id INTEGER NOT NULL,
        storage_key VARCHAR(64) NOT NULL UNIQUE,
        name        VARCHAR(255) NOT NULL,
        mime_type   VARCHAR(100) NOT NULL,
        size        INTEGER NOT NULL,
        created_at  TIMESTAMPTZ(3) NOT NULL DEFAULT now()
      )`);
    await sql('CREATE INDEX attachments_created ON attachments (created_at)');
    await sql('ALTER TABLE messages ADD COLUMN attachment_id BIGINT REFERENCES attachments (id), ADD COLUMN attachment JSONB');
    await sql('CREATE UNIQUE INDEX messages_attachment_unique ON messages (attachment_id) WHERE attachment_id IS NOT NULL');
  },

  async down(queryInterface) {
    const sql = (text) => queryInterface.sequelize.query(text);
    await sql('ALTER TABLE messages DROP COLUMN attachment, DROP COLUMN attachment_id');
    await sql('DROP TABLE attachments');
  },
};
