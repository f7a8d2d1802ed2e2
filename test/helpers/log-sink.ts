import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger.js';

/** A logger that keeps every line it writes, for tests that check what reaches the logs. */
export function capturingLogger(level = 'info', options: { pretty?: boolean } = {}) {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const log = createLogger(level, sink, options);
  return {
    log,
    /** Every line written so far. */
    lines,
    /** The JSON lines written so far, parsed. */
    entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
