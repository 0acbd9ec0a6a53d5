'use strict';

// Every message is written unread and undelivered, so each partial index over those states costs
// every send an index insert. Marking read also marks delivered, so the undelivered messages are
// a subset of the unread ones: markDelivered adds `NOT is_read` to its WHERE clause and walks
// messages_unread, and messages_undelivered goes.
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.query('DROP INDEX messages_undelivered');
  },

  async down(queryInterface) {
    await queryInterface.sequelize.query(`CREATE INDEX messages_undelivered ON messages (conversation_id, receiver_id, id)
                                          WHERE delivered_at IS NULL AND deleted_at IS NULL`);
  },
};
