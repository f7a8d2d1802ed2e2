import { type Logger, pino } from 'pino';
import pinoPretty from 'pino-pretty';

/** Paths whose values never reach a log line. */
const REDACT_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'headers.cookie',
  'req.headers.cookie',
  '*.password',
  '*.secret',
  '*.token',
  '*.apiKey',
  '*.accessToken',
  '*.consumerSecret',
  '*.webhookSecret',
  '*.accessKeySecret',
  '*.authHeaderValue',
  'secrets',
  '*.secrets',
  'settings',
  '*.settings',
  'signature',
  '*.signature',
  'headers["x-shopify-hmac-sha256"]',
  'headers["x-wc-webhook-signature"]',
  'headers["webhook-signature"]',
  'customer.email',
  '*.customer.email',
];

export interface LoggerOptions {
  /** Readable lines (pino-pretty) instead of JSON: for a person at a terminal. */
  pretty?: boolean;
}

/**
 * JSON lines, one object per line, for log collectors; readable lines when `pretty`. Both redact
 * the same paths (redaction happens before the lines are formatted).
 */
export function createLogger(
  level: string,
  destination?: pino.DestinationStream,
  options: LoggerOptions = {},
): Logger {
  const out = options.pretty
    ? pinoPretty({
        destination: destination ?? 1,
        colorize: destination === undefined,
        sync: true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname,service',
      })
    : destination;
  return pino(
    {
      level,
      base: { service: 'stockbridge' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    out,
  );
}

/** Readable logs in development when a person watches (stdout is a terminal); JSON otherwise. */
export const wantsPrettyLogs = (nodeEnv: string, stdoutIsTty: boolean | undefined): boolean =>
  nodeEnv === 'development' && stdoutIsTty === true;

export type { Logger };
