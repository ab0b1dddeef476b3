import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';
import type { Config } from './config.js';

// Loaded only for LOG_FORMAT=text: it is a sizeable share of the start-up imports otherwise.
const loadPretty = () => createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;

export type { Logger };

/**
 * The process's only logger. It writes to fd 2 because stdout is the MCP stdio channel: one stray
 * byte there breaks the client. Lines carry `time`, `level`, `message` and, for the object passed
 * with a call, `context`.
 */
export function createLogger(
  config: Pick<Config, 'logLevel' | 'logFormat'>,
  destination?: DestinationStream,
): Logger {
  const options = {
    level: config.logLevel,
    messageKey: 'message',
    nestedKey: 'context',
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  const dest =
    destination ??
    (config.logFormat === 'text'
      ? loadPretty()({
          destination: 2,
          sync: true,
          colorize: false,
          messageKey: 'message',
          translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
          ignore: 'pid',
          singleLine: true,
        })
      : // Buffered: two synchronous writes per call showed in the warm round trip. Flushed on exit.
        pino.destination({ dest: 2, sync: false, minLength: 0 }));
  return pino(options, dest);
}
