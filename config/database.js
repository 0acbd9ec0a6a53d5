'use strict';
// sequelize-cli reads this file (`npm run migrate`, `npm run seed`). The running server does not:
// it takes its settings from src/config and applies the same migrations through umzug.
const base = {
  url: process.env.DATABASE_URL || 'postgres://postgres:postgres@127.0.0.1:54329/duet',
  dialect: 'postgres',
  logging: false,
  migrationStorageTableName: 'SequelizeMeta',
  seederStorage: 'sequelize',
  seederStorageTableName: 'SequelizeData',
};

module.exports = { development: base, test: base, production: base };
