'use strict';

// Indexes every send pays for (docs/performance.md):
// - Every message is written unread and undelivered, so each partial index over those states costs
//   every send an index insert. Marking read also marks delivered, so the undelivered messages are
//   a subset of the unread ones: markDelivered adds `NOT is_read` to its WHERE clause and walks
//   messages_unread, and messages_undelivered goes.
// - The search index takes new entries one by one (fastupdate off) instead of into a pending list
//   that some unlucky send, or a search, has to merge into the index in one long go.
module.exports = {
  async up(queryInterface) {
    const sql = (text) => queryInterface.sequelize.query(text);
    await sql('DROP INDEX messages_undelivered');
    await sql('ALTER INDEX messages_search_by_conversation SET (fastupdate = off)');
  },

  async down(queryInterface) {
    const sql = (text) => queryInterface.sequelize.query(text);
    await sql('ALTER INDEX messages_search_by_conversation RESET (fastupdate)');
    await sql(`CREATE INDEX messages_undelivered ON messages (conversation_id, receiver_id, id)
               WHERE delivered_at IS NULL AND deleted_at IS NULL`);
  },
};
