import { type Logger, pino } from 'pino';

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
  'settings',
  '*.settings',
  'signature',
  '*.signature',
  'headers["x-shopify-hmac-sha256"]',
  'headers["x-wc-webhook-signature"]',
  'customer.email',
  '*.customer.email',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'stockbridge' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

export type { Logger };
