import { hostname } from 'node:os';
import type { Db } from '../src/db/connection.js';
import type { ScheduledJob } from './types.js';

/** Where the heartbeat writes; the job creates it on first use (it is not part of the schema). */
export const HEARTBEATS = 'job_heartbeats';

const ensured = new WeakMap<Db, Promise<void>>();

function ensureTable(db: Db): Promise<void> {
  let done = ensured.get(db);
  if (!done) {
    done = (async () => {
      if (await db.schema.hasTable(HEARTBEATS)) return;
      try {
        await db.schema.createTable(HEARTBEATS, (t) => {
          t.increments('id');
          t.string('job_id', 100).notNullable().index();
          t.string('runner', 80).notNullable();
          t.bigInteger('ran_at_ms').notNullable();
        });
      } catch (err) {
        // Another worker created it meanwhile.
        if (!(await db.schema.hasTable(HEARTBEATS))) throw err;
      }
    })();
    done.catch(() => ensured.delete(db));
    ensured.set(db, done);
  }
  return done;
}

/**
 * A job that only records that it ran: one row per run, with its job id (`heartbeat-<period>`)
 * and the process that ran it. Turned on by `STOCKBRIDGE_HEARTBEAT_SECONDS`; lets a test (or a
 * drill) see that several schedulers side by side start each period once.
 */
export function heartbeat(everySeconds: number): ScheduledJob {
  return {
    name: 'heartbeat',
    schedule: `*/${everySeconds} * * * * *`,
    period: { seconds: everySeconds },
    // A beat that failed is not worth a second try: the next period beats again.
    retry: { attempts: 1 },
    async run({ db, jobId }) {
      await ensureTable(db);
      const runner = `${hostname().slice(0, 40)}:${process.pid}`;
      await db(HEARTBEATS).insert({ job_id: jobId ?? '', runner, ran_at_ms: Date.now() });
      return { counts: { beats: 1 }, jobId: jobId ?? null, runner };
    },
  };
}
