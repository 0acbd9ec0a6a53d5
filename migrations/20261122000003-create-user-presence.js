'use strict';

// When each user was last seen online. Kept by Duet (the host's users table is read-only to it),
// so lastSeenAt survives restarts.
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.query(`
      CREATE TABLE user_presence (
        user_id      INTEGER PRIMARY KEY,
        last_seen_at TIMESTAMPTZ(3) NOT NULL
      )`);
  },

  async down(queryInterface) {
    await queryInterface.dropTable('user_presence');
  },
};
