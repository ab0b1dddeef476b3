import type { LoggingLevel } from '@modelcontextprotocol/sdk/types.js';
import type { OutputMessage } from '../pool/messages.js';
import type { ToolExtra } from './toolDefinition.js';

/**
 * What a long execution tells the client while it runs:
 * - `notifications/progress` every PROGRESS_EVERY_MS when the request carries a progress token
 *   (elapsed time and bytes printed), so clients that reset their timeout on progress keep waiting;
 * - stdout and stderr as `notifications/message` log lines when the client has set a log level
 *   that admits them (stdout at `info`, stderr at `warning`), batched to a bounded rate.
 * The final result carries the output cut to OUTPUT_BUDGET_BYTES (server/outputBudget.ts).
 */

export const PROGRESS_EVERY_MS = 2000;
const LOG_EVERY_MS = 250;
const MAX_LOG_CHUNK = 16_384;

const SEVERITY: Record<LoggingLevel, number> = {
  debug: 0,
  info: 1,
  notice: 2,
  warning: 3,
  error: 4,
  critical: 5,
  alert: 6,
  emergency: 7,
};

/** Per connection: the log level the client asked for with logging/setLevel, if it did. */
export type ClientSession = { logLevel: LoggingLevel | undefined };

export type LiveOutput = {
  /** Listener for the pool, or undefined when nobody asked for live output. */
  onOutput: ((batch: OutputMessage) => void) | undefined;
  /** Stop the timers and send what is left; resolves once sent, so it precedes the result. */
  stop(): Promise<void>;
};

export function startLiveOutput(extra: ToolExtra, session: ClientSession): LiveOutput {
  const progressToken = extra._meta?.progressToken;
  const admits = (level: LoggingLevel) => session.logLevel !== undefined && SEVERITY[level] >= SEVERITY[session.logLevel];
  const streamStdout = admits('info');
  const streamStderr = admits('warning');
  if (progressToken === undefined && !streamStdout && !streamStderr) return { onOutput: undefined, stop: async () => {} };

  const started = performance.now();
  let bytes = 0;
  const pending = { stdout: '', stderr: '' };
  const timers: NodeJS.Timeout[] = [];
  const notify = (notification: Parameters<ToolExtra['sendNotification']>[0]) =>
    extra.sendNotification(notification).catch(() => {
      /* the client went away: the run is being cancelled */
    });

  if (progressToken !== undefined) {
    timers.push(
      setInterval(() => {
        const seconds = Math.round((performance.now() - started) / 100) / 10;
        void notify({
          method: 'notifications/progress',
          params: { progressToken, progress: seconds, message: `running for ${seconds.toFixed(1)} s; ${formatBytes(bytes)} printed` },
        });
      }, PROGRESS_EVERY_MS),
    );
  }
  const flushLogs = async () => {
    for (const [stream, level] of [['stdout', 'info'], ['stderr', 'warning']] as const) {
      let text = pending[stream];
      pending[stream] = '';
      while (text) {
        await notify({ method: 'notifications/message', params: { level, logger: stream, data: text.slice(0, MAX_LOG_CHUNK) } });
        text = text.slice(MAX_LOG_CHUNK);
      }
    }
  };
  if (streamStdout || streamStderr) timers.push(setInterval(() => void flushLogs(), LOG_EVERY_MS));

  return {
    onOutput(batch) {
      bytes = batch.stdoutBytes + batch.stderrBytes;
      if (streamStdout) pending.stdout += batch.stdout;
      if (streamStderr) pending.stderr += batch.stderr;
    },
    async stop() {
      timers.forEach((t) => clearInterval(t));
      await flushLogs();
    },
  };
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
