/** The browser test: Chromium (Debian's package) drives the /demo page against a real server. */
const base = require('./jest.config');

module.exports = { ...base, testPathIgnorePatterns: ['/node_modules/'], roots: ['<rootDir>/tests/browser'], testMatch: ['**/*.browser.test.ts'], testTimeout: 60000 };
