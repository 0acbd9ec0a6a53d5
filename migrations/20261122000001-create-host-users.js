'use strict';
const { hostUsersFromEnv } = require('../config/host-users');

// The users table belongs to the host product. Duet only creates a minimal one for standalone
// and development use, when no table of that name exists; it never alters or drops a host table.
module.exports = {
  async up(queryInterface, Sequelize, options) {
    const users = (options && options.hostUsers) || hostUsersFromEnv(process.env);
    const [rows] = await queryInterface.sequelize.query('SELECT to_regclass(:table) AS found', {
      replacements: { table: users.table },
    });
    if (rows[0].found) return;

    const columns = {
      [users.idColumn]: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
      [users.nameColumn]: { type: Sequelize.STRING(255), allowNull: false },
    };
    if (users.avatarColumn) columns[users.avatarColumn] = { type: Sequelize.STRING(1024), allowNull: true };
    await queryInterface.createTable(users.table, columns);
  },

  // Deliberately empty: the table may be the host's, and Duet never drops it.
  async down() {},
};
