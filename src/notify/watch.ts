import { type Db, dbTime, isoTime } from '../db/connection.js';
import type { EventOccurrence } from './events.js';
import { fanOut } from './fan-out.js';

/** How far back failed jobs are looked for (older failures were somebody's news already). */
const JOB_LOOKBACK_MS = 24 * 3600_000;

/**
 * Events that live as state rather than outbox messages, turned into occurrences: scheduled job
 * runs that failed for good (`job_runs.status = failed`, once per run) and channels marked failing
 * (`channels.failing_since`, once per failing spell). Occurrences already made into notifications
 * are skipped, so this is cheap to call on every sweep.
 */
export async function watchedOccurrences(db: Db, now = new Date()): Promise<EventOccurrence[]> {
  const jobs = await db('job_runs')
    .where('status', 'failed')
    .where('finished_at', '>=', dbTime(new Date(now.getTime() - JOB_LOOKBACK_MS)))
    .orderBy('id')
    .limit(200)
    .select('id', 'job', 'period', 'run', 'attempts', 'error', 'finished_at');
  const channels = await db('channels')
    .whereNotNull('failing_since')
    .orderBy('id')
    .limit(200)
    .select('id', 'name', 'type', 'failing_reason', 'failing_since');
  const occurrences: EventOccurrence[] = [
    ...jobs.map(
      (j): EventOccurrence => ({
        event: 'job.failed',
        sourceKey: `job_run:${j.id}:${j.run}`,
        orderId: null,
        data: {
          runId: Number(j.id),
          name: j.job,
          period: j.period,
          run: Number(j.run),
          attempts: Number(j.attempts),
          error: String(j.error ?? '').slice(0, 1000),
          at: isoTime(j.finished_at),
        },
      }),
    ),
    ...channels.map((c): EventOccurrence => {
      const since = isoTime(c.failing_since);
      return {
        event: 'channel.failing',
        sourceKey: `channel:${c.id}:failing:${since}`,
        orderId: null,
        data: {
          channelId: Number(c.id),
          name: c.name,
          type: c.type,
          channel: `${c.type}:${c.id}`,
          reason: c.failing_reason,
          since,
        },
      };
    }),
  ];
  if (occurrences.length === 0) return [];
  const known = new Set(
    await db('notifications')
      .whereIn(
        'source_key',
        occurrences.map((o) => o.sourceKey),
      )
      .distinct()
      .pluck('source_key'),
  );
  return occurrences.filter((o) => !known.has(o.sourceKey));
}

/** Makes the notifications of watched events; returns the pending ones made. */
export async function watchEvents(db: Db, host: string) {
  const occurrences = await watchedOccurrences(db);
  if (occurrences.length === 0) return [];
  return fanOut(db, occurrences, host);
}
