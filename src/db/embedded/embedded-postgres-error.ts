/**
 * Why the embedded PostgreSQL could not start, written for the person at the terminal: what failed,
 * then the ways out. main.ts prints the message as it is and exits non-zero.
 */
export class EmbeddedPostgresError extends Error {
  constructor(what: string, extraWaysOut: string[] = [], detail?: string) {
    const waysOut = [
      ...extraWaysOut,
      'set DATABASE_URL to a PostgreSQL (13 or later) you run, and Duet uses that instead',
      'run Duet as a regular user, not root (PostgreSQL refuses root, so as root it runs as the `postgres` user)',
      'set EMBEDDED_PG_DIR to a directory for the cluster that the user running PostgreSQL can reach',
    ];
    super(
      `the embedded PostgreSQL did not start: ${what}` +
        (detail ? `\n${detail.trimEnd()}` : '') +
        `\nWays out:\n${waysOut.map((way) => `  - ${way}`).join('\n')}`,
    );
    this.name = 'EmbeddedPostgresError';
  }
}
