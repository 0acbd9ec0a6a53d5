'use strict';

// Every message is written unread and undelivered, so each partial index over those states costs
// every send an index insert. Marking read also marks delivered, so the undelivered messages are
// a subset of the unread ones: markDelivered adds `NOT is_read` to its WHERE clause and walks
// messages_unread, and messages_undelivered goes.
//
// The search index keeps its pending list (new entries are appended, which is cheap; entering them
// one by one cost each send ~20 % more PostgreSQL CPU), but a short one: the send that finds the
// list over its limit merges it into the index while every batch behind it waits. At the default
// 4 MB that stalled sends for 100–300 ms every few seconds at 1,000–2,000 msgs/s; at 256 kB the
// merges are small (docs/performance.md).
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.query('DROP INDEX messages_undelivered');
    await queryInterface.sequelize.query('ALTER INDEX messages_search_by_conversation SET (gin_pending_list_limit = 256)');
  },

  async down(queryInterface) {
    await queryInterface.sequelize.query('ALTER INDEX messages_search_by_conversation RESET (gin_pending_list_limit)');
    await queryInterface.sequelize.query(`CREATE INDEX messages_undelivered ON messages (conversation_id, receiver_id, id)
                                          WHERE delivered_at IS NULL AND deleted_at IS NULL`);
  },
};
