/** The coordinator's log: JSON lines with level, time and the record's own fields, filtered by level; pretty for a person. */
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { createLogger, type LogLevel } from './logger.ts';

function capture(level: LogLevel, pretty = false) {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { log: createLogger({ level, pretty, destination: stream }), text: () => text };
}

describe('the coordinator log', () => {
  afterEach(() => {
    delete process.env.TABREDUCE_LOG_LEVEL;
  });

  it('writes one JSON object a line, with level, time, message and the fields given', () => {
    const { log, text } = capture('info');
    log.info({ jobId: 'job-1', mapTasks: 3 }, 'job "words" submitted');
    log.debug({ jobId: 'job-1' }, 'not at info');
    const lines = text().trim().split('\n');
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(record).toMatchObject({ level: 30, jobId: 'job-1', mapTasks: 3, msg: 'job "words" submitted', service: 'tabreduce' });
    expect(typeof record.time).toBe('number');
  });

  it('keeps an error as its type, message and stack', () => {
    const { log, text } = capture('warn');
    log.error({ err: new RangeError('out of range') }, 'request failed');
    expect(JSON.parse(text())).toMatchObject({ level: 50, err: { type: 'RangeError', message: 'out of range', stack: expect.stringContaining('RangeError') } });
  });

  it('prints for a person on a terminal: the level and the message, the fields after', () => {
    const { log, text } = capture('info', true);
    log.info({ jobId: 'job-2' }, 'job cancelled');
    expect(text()).toMatch(/INFO.*job cancelled/);
    expect(text()).toContain('job-2');
    expect(text()).not.toMatch(/^\{/);
  });

  it('takes its level from TABREDUCE_LOG_LEVEL, and refuses one that is not a level', () => {
    process.env.TABREDUCE_LOG_LEVEL = 'warn';
    expect(loadConfig().logLevel).toBe('warn');
    process.env.TABREDUCE_LOG_LEVEL = 'loud';
    expect(() => loadConfig()).toThrow('TABREDUCE_LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent, got "loud"');
    delete process.env.TABREDUCE_LOG_LEVEL;
    expect(loadConfig().logLevel).toBe('info');
  });
});
