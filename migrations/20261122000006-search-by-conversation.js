'use strict';

// Search is always scoped to conversations (the caller's own). A GIN index over
// (conversation_id, search_vector) finds a word's matches within those conversations directly;
// the global GIN over search_vector alone made a search cost grow with how often the word occurs
// across everyone's messages. btree_gin (a contrib extension, trusted since PostgreSQL 13, so a
// database owner may create it) lets GIN index the integer column.
module.exports = {
  async up(queryInterface) {
    const sql = (text) => queryInterface.sequelize.query(text);
    await sql('CREATE EXTENSION IF NOT EXISTS btree_gin');
    await sql(`CREATE INDEX messages_search_by_conversation ON messages USING GIN (conversation_id, search_vector)
               WHERE deleted_at IS NULL`);
    await sql('DROP INDEX messages_search');
  },

  async down(queryInterface) {
    const sql = (text) => queryInterface.sequelize.query(text);
    await sql('CREATE INDEX messages_search ON messages USING GIN (search_vector) WHERE deleted_at IS NULL');
    await sql('DROP INDEX messages_search_by_conversation');
  },
};
