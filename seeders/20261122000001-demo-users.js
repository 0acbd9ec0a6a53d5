'use strict';
const { hostUsersFromEnv } = require('../config/host-users');

const DEMO_USERS = ['Alice', 'Bob', 'Carol', 'Dave', 'Erin'];

// Demo users for the embedded/development database. Skips names that already exist, so running it
// against a table that has users is harmless.
module.exports = {
  async up(queryInterface, Sequelize, options) {
    const users = (options && options.hostUsers) || hostUsersFromEnv(process.env);
    const q = (name) => queryInterface.quoteIdentifier(name);
    for (const name of DEMO_USERS) {
      await queryInterface.sequelize.query(
        `INSERT INTO ${q(users.table)} (${q(users.nameColumn)})
         SELECT :name WHERE NOT EXISTS (SELECT 1 FROM ${q(users.table)} WHERE ${q(users.nameColumn)} = :name)`,
        { replacements: { name } },
      );
    }
  },

  async down(queryInterface, Sequelize, options) {
    const users = (options && options.hostUsers) || hostUsersFromEnv(process.env);
    const q = (name) => queryInterface.quoteIdentifier(name);
    await queryInterface.sequelize.query(`DELETE FROM ${q(users.table)} WHERE ${q(users.nameColumn)} IN (:names)`, {
      replacements: { names: DEMO_USERS },
    });
  },
};
