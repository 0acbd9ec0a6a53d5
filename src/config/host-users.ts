import path from 'node:path';
import { PROJECT_ROOT } from '../shared/project-root';
import type { HostUsersConfig } from './index';

// The defaults and env names live in config/host-users.js, which the CommonJS migrations share.
const shared = require(path.join(PROJECT_ROOT, 'config', 'host-users.js')) as {
  defaults: HostUsersConfig;
  hostUsersFromEnv(env: Record<string, string | undefined>): HostUsersConfig;
};

export const DEFAULT_HOST_USERS: HostUsersConfig = shared.defaults;
export const hostUsersFromEnv = shared.hostUsersFromEnv;
