'use strict';
// Where the host keeps its users. Shared by the migrations/seeders (run by sequelize-cli or by the
// server through umzug) and by src/config, so the defaults live in one place.
const defaults = Object.freeze({ table: 'users', idColumn: 'id', nameColumn: 'name', avatarColumn: 'avatar_url' });

function hostUsersFromEnv(env) {
  return {
    table: env.USERS_TABLE || defaults.table,
    idColumn: env.USERS_ID_COLUMN || defaults.idColumn,
    nameColumn: env.USERS_NAME_COLUMN || defaults.nameColumn,
    avatarColumn: env.USERS_AVATAR_COLUMN === undefined ? defaults.avatarColumn : env.USERS_AVATAR_COLUMN,
  };
}

module.exports = { defaults, hostUsersFromEnv };
