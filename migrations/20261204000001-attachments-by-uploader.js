'use strict';

// The attachment quota sums the sizes of an uploader's attachments on every upload; with the size
// in the index that sum is an index-only scan of the uploader's own rows.
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.query('CREATE INDEX attachments_by_uploader ON attachments (uploader_id) INCLUDE (size)');
  },

  async down(queryInterface) {
    await queryInterface.sequelize.query('DROP INDEX attachments_by_uploader');
  },
};
