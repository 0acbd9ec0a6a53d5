'use strict';

// The attachment quota sums the sizes of an uploader's attachments on every upload; with the size
// in the index that sum is an index-only scan of the uploader's own rows. CONCURRENTLY, so that a
// large table keeps taking uploads while it is built (it runs outside a transaction).
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.query('CREATE INDEX CONCURRENTLY IF NOT EXISTS attachments_by_uploader ON attachments (uploader_id) INCLUDE (size)');
  },

  async down(queryInterface) {
    await queryInterface.sequelize.query('DROP INDEX CONCURRENTLY IF EXISTS attachments_by_uploader');
  },
};
