import { z } from 'zod';
import type { PullSchedule } from '../contract.js';
import { cursorSeconds, isoSeconds } from './time-cursor.js';

/** Seconds between scheduled pulls, and of overlap, unless a channel's settings say otherwise. */
export const DEFAULT_PULL_INTERVAL_S = 300;
export const DEFAULT_PULL_OVERLAP_S = 600;

/**
 * The pull settings every pulling connector offers, to spread into its settings schema:
 * `pullIntervalSeconds`, `pullOverlapSeconds`, `pullStartAt`.
 */
export const pullSettingsShape = {
  /** Seconds between scheduled pulls. Default 300. */
  pullIntervalSeconds: z.number().int().positive().default(DEFAULT_PULL_INTERVAL_S),
  /** Seconds each pull reaches back before the last cursor, to catch late writes. Default 600. */
  pullOverlapSeconds: z.number().int().min(0).default(DEFAULT_PULL_OVERLAP_S),
  /** Where the first pull starts (ISO 8601); default: one pull interval plus the overlap ago. */
  pullStartAt: z.iso.datetime({ offset: true }).optional(),
};

export interface PullSettings {
  pullIntervalSeconds: number;
  pullOverlapSeconds: number;
  pullStartAt?: string | undefined;
}

/** The schedule the core keeps for a channel with these settings (the connector's `pullSchedule`). */
export function pullScheduleOf(settings: PullSettings): PullSchedule {
  return { intervalSeconds: settings.pullIntervalSeconds, overlapSeconds: settings.pullOverlapSeconds };
}

/** Where a pull with no cursor starts: `pullStartAt`, else one interval plus the overlap ago. */
export function initialPullStart(settings: PullSettings, now: number = Date.now()): string {
  if (settings.pullStartAt) return isoSeconds(Date.parse(settings.pullStartAt));
  return isoSeconds(now - (settings.pullIntervalSeconds + settings.pullOverlapSeconds) * 1000);
}

/** Where this pull starts: the cursor it was handed, in whole seconds, else `initialPullStart`. */
export function pullStartOf(settings: PullSettings, cursor: string | null): string {
  return cursorSeconds(cursor) ?? initialPullStart(settings);
}
