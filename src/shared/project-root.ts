import path from 'node:path';

/**
 * The package root, where migrations/, seeders/ and config/ live. Compiled code runs from
 * dist/src/..., sources (ts-jest) from src/..., so the depth differs by one.
 */
export const PROJECT_ROOT = path.resolve(
  __dirname,
  __dirname.split(path.sep).includes('dist') ? '../../..' : '../..',
);
