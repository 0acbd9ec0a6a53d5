import winston from 'winston';
import { currentContext } from './request-context';

/** Adds the request id and user id of the current request, when there is one. */
const withRequestContext = winston.format((info) => {
  const ctx = currentContext();
  if (ctx) {
    info.requestId = ctx.requestId;
    if (ctx.userId !== undefined) info.userId = ctx.userId;
  }
  return info;
});

export type Logger = winston.Logger;

/**
 * JSON lines in every mode so logs are machine-readable. Never log message bodies or tokens:
 * callers pass ids and counts only.
 */
export function createLogger(level = 'info', silent = false): Logger {
  return winston.createLogger({
    level,
    silent,
    format: winston.format.combine(withRequestContext(), winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn'] })],
  });
}
