import winston from 'winston';
export type Logger = winston.Logger;

/**
 * JSON lines in every mode so logs are machine-readable. Never log message bodies or tokens:
 * callers pass ids and counts only.
 */
export function createLogger(level = 'info', silent = false): Logger {
  return winston.createLogger({
    level,
    silent,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn'] })],
  });
}
