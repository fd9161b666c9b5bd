/**
 * The coordinator's log: pino, the Node standard (Fastify's), so every line is a JSON
 * object with `level`, `time` and `msg`, and the fields that say what it is about
 * (`jobId`, `volunteerId`, `uploadId`) as fields of their own, ready for a log shipper.
 * On a terminal the same records are printed for a person by pino-pretty, in this
 * thread (a transport's worker thread would outlive a coordinator closed in tests).
 *
 * The level is TABREDUCE_LOG_LEVEL (config.ts): `info` by default; `debug` adds what
 * only a developer wants; `silent` logs nothing.
 */
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  level: LogLevel;
  /** Print for a person instead of JSON lines. Default: whether stdout is a terminal. */
  pretty?: boolean;
  /** Where lines go. Default: stdout. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? process.stdout;
  const human = options.pretty ?? Boolean((destination as { isTTY?: boolean }).isTTY);
  const base = { level: options.level, base: { service: 'tabreduce' } };
  if (human) return pino(base, pretty({ destination, colorize: true, sync: true, ignore: 'pid,hostname,service', translateTime: 'SYS:HH:MM:ss.l' }));
  return pino(base, destination);
}

/** A logger that writes nothing: for tests, and for code that runs without one. */
export const silentLogger: Logger = pino({ level: 'silent' });
