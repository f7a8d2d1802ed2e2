import type { ScheduledJob } from '../../jobs/types.js';
import type { Conn } from '../db/connection.js';
import type { ScheduledJobsDeps } from '../http/env.js';
import { enqueueRun } from '../scheduler.js';
import type { JobRun, RunTrigger } from './job-runs.js';
import { requestJobRun } from './request-run.js';

/**
 * A run a person asks for now (the API's `POST /jobs/{name}/run`, the console's "Run now"): the
 * run's row (refused as `requestRun` says), then the job on the maintenance queue.
 */
export async function runJobNow(
  db: Conn,
  deps: ScheduledJobsDeps,
  job: ScheduledJob,
  options: { period?: string | undefined; force: boolean; triggeredBy: RunTrigger },
): Promise<JobRun> {
  const run = await requestJobRun(db, job, {
    period: options.period,
    force: options.force,
    triggeredBy: options.triggeredBy,
    timeZone: deps.timeZone,
    now: (deps.now ?? (() => new Date()))(),
  });
  await enqueueRun(deps.queue, job, run);
  return run;
}
