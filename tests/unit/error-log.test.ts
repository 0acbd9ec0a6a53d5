import { ErrorLog, errorLog } from '../../src/shared/error-log';
import { capturingLogger } from '../helpers/log-capture';

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { name: 'SequelizeConnectionRefusedError' });

describe('ErrorLog', () => {
  test('a failure repeated within the window is logged once with its stack, then once as a count', async () => {
    const { logger, entries } = capturingLogger();
    const log = new ErrorLog(logger, 100);
    for (let i = 0; i < 500; i++) log.error('request failed', refused(), { path: `/api/chat/conversations/${i}` });
    log.error('request failed', new TypeError('x is undefined'));
    log.error('socket event failed', refused());
    expect(entries.map((e) => [e.message, String(e.err).split('\n')[0]])).toEqual([
      ['request failed', 'SequelizeConnectionRefusedError: connect ECONNREFUSED 127.0.0.1:5432'],
      ['request failed', 'TypeError: x is undefined'],
      ['socket event failed', 'SequelizeConnectionRefusedError: connect ECONNREFUSED 127.0.0.1:5432'],
    ]);
    expect(entries[0]).toMatchObject({ path: '/api/chat/conversations/0', err: expect.stringContaining('error-log.test.ts') });

    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(entries.slice(3)).toEqual([
      expect.objectContaining({ level: 'error', message: 'request failed', repeats: 499, withinMs: 100, err: expect.stringContaining('ECONNREFUSED') }),
    ]);
    // After the window the next one is logged whole again.
    log.error('request failed', refused());
    expect(entries).toHaveLength(5);
    expect(entries[4]!.err).toEqual(expect.stringContaining('error-log.test.ts'));
  });

  test('every part of a logger shares one ErrorLog', () => {
    const { logger, entries } = capturingLogger();
    errorLog(logger).error('request failed', refused());
    errorLog(logger).error('request failed', refused());
    expect(entries).toHaveLength(1);
    expect(errorLog(capturingLogger().logger)).not.toBe(errorLog(logger));
  });
});
