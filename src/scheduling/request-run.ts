import type { ScheduledJob } from '../../jobs/types.js';
import type { Conn } from '../db/connection.js';
import { periodOf, periodProblem, periodRunnable } from '../domain/job-periods.js';
import { unprocessable } from '../errors/domain-errors.js';
import { type JobRun, type RunTrigger, requestRun } from './job-runs.js';

/**
 * The period a person asks a job to run for: the one given, checked (422 `invalid_period` when it
 * is not a period of the job's kind, `period_not_over` when it has not ended, or for a job of the
 * current period not begun), or else the one a tick now would cover.
 */
export function resolvePeriod(
  job: ScheduledJob,
  period: string | undefined,
  timeZone: string,
  now: Date,
): string {
  if (period === undefined) return periodOf(job, now, timeZone);
  const problem = periodProblem(job.period, period);
  if (problem) throw unprocessable('invalid_period', `period ${period} ${problem}`, { period });
  if (!periodRunnable(job, period, timeZone, now)) {
    const over = typeof job.period === 'string' && (job.covers ?? 'previous') === 'previous';
    throw unprocessable(
      'period_not_over',
      over
        ? `period ${period} has not ended yet (${job.name} covers a ${job.period} once it is over)`
        : `period ${period} has not begun yet`,
      { period },
    );
  }
  return period;
}

/** A run of a job asked for by a person (API, CLI): see `requestRun` for when it is refused. */
export function requestJobRun(
  db: Conn,
  job: ScheduledJob,
  options: {
    period?: string | undefined;
    force: boolean;
    triggeredBy: RunTrigger;
    timeZone: string;
    now: Date;
  },
): Promise<JobRun> {
  const period = resolvePeriod(job, options.period, options.timeZone, options.now);
  return requestRun(db, job.name, period, { force: options.force, triggeredBy: options.triggeredBy });
}
