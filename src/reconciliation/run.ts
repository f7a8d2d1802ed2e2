import type { Logger } from 'pino';
import type { ChannelContext } from '../channels/channel-context.js';
import { connectorOf } from '../channels/channel-context.js';
import { type Channel, channelKey, listChannels } from '../channels/channel-store.js';
import { connectorContext } from '../channels/connector-runtime.js';
import { channelPullSchedule } from '../channels/pull.js';
import { type Db, dbTime } from '../db/connection.js';
import { type FindingDraft, findingKey } from '../domain/reconciliation.js';
import { recordNewFindings } from '../metrics.js';
import { OUTBOX } from '../outbox/outbox.js';
import { compareChannelOrders, takeInOrders } from './channel-orders.js';
import { compareChannelStock, markDriftForPush } from './channel-stock.js';
import { internalProblems } from './internal-checks.js';
import {
  claimHeal,
  type Finding,
  finishRun,
  noteHeal,
  type ReconciliationRun,
  type RunTrigger,
  recordFindings,
  releaseHeal,
  resolveGone,
  runFindings,
  startRun,
} from './store.js';

export interface ReconcileOptions {
  db: Db;
  log: Logger;
  /** The business day, YYYY-MM-DD. */
  period: string;
  periodStart: Date;
  periodEnd: Date;
  /** The channels (their secrets and HTTP clients); without it, only our own records are checked. */
  channels?: ChannelContext | undefined;
  triggeredBy: RunTrigger;
  progress?: (done: number, total: number) => void;
}

export interface ReconcileResult {
  run: ReconciliationRun;
  counts: Record<string, number>;
  findings: Finding[];
}

/** Topic of the outbox message for a finding left open (for the notifications issue). */
export const FINDING_TOPIC = 'reconciliation.finding';

/**
 * Reconciles one business day: per enabled channel its orders (the day plus the channel's pull
 * overlap, read through the connector) and its stock, then our own records; stores every finding,
 * heals what can be healed (each heal claimed first, so made once), and hands findings this run
 * left open to the outbox. A channel that cannot be read is recorded and the rest go on; the run
 * then fails (after storing what it found), so that the job's retry reads it again.
 */
export async function reconcilePeriod(o: ReconcileOptions): Promise<ReconcileResult> {
  const { db, log } = o;
  const channels = o.channels ? (await listChannels(db, o.channels.secretKey)).filter((c) => c.enabled) : [];
  const overlapOf = (c: Channel) => channelPullSchedule(connectorOf(c), c).overlapSeconds;
  const widest = Math.max(0, ...channels.map(overlapOf));
  const run = await startRun(db, {
    period: o.period,
    from: new Date(o.periodStart.getTime() - widest * 1000),
    to: o.periodEnd,
    triggeredBy: o.triggeredBy,
  });
  const counts: Record<string, number> = {
    channels: 0,
    ordersRead: 0,
    ordersCompared: 0,
    skusCompared: 0,
    findings: 0,
    healed: 0,
    healFailed: 0,
    channelErrors: 0,
  };
  const errors: string[] = [];
  const checked: string[] = [];
  const total = channels.length + 1;
  try {
    for (const [i, channel] of channels.entries()) {
      const key = channelKey(channel);
      const began = Date.now();
      try {
        await reconcileChannel(o, run, channel, overlapOf(channel), counts);
        checked.push(key);
        counts.channels = (counts.channels ?? 0) + 1;
      } catch (err) {
        counts.channelErrors = (counts.channelErrors ?? 0) + 1;
        errors.push(`${key}: ${(err as Error).message}`);
        log.warn({ channel: key, err: (err as Error).message }, 'reconciliation of a channel failed');
      }
      counts.msChannels = (counts.msChannels ?? 0) + (Date.now() - began);
      o.progress?.(i + 1, total);
    }
    const began = Date.now();
    const internal = await internalProblems(db);
    counts.msInternal = Date.now() - began;
    recordNewFindings(run.id, (await recordFindings(db, run, internal)).values());
    checked.push('internal');
    counts.internalFindings = internal.length;
    await resolveGone(db, run, checked);
    o.progress?.(total, total);

    // Findings first found by this run and left open go to the outbox, once.
    const { items } = await runFindings(db, run);
    const fresh = items.filter((f) => f.runId === run.id && f.state === 'open');
    for (let i = 0; i < fresh.length; i += 500) {
      await db(OUTBOX).insert(
        fresh.slice(i, i + 500).map((f) => ({
          topic: FINDING_TOPIC,
          payload: JSON.stringify({
            findingId: f.id,
            runId: run.id,
            period: run.period,
            kind: f.kind,
            severity: f.severity,
            source: f.source,
            subject: f.subject,
            message: f.message,
          }),
          created_at: dbTime(),
        })),
      );
    }
    counts.findings = items.length;
    counts.open = items.filter((f) => f.state === 'open').length;
    counts.outboxed = fresh.length;
    await finishRun(db, run.id, { counts, ...(errors.length ? { error: errors.join('; ') } : {}) });
    if (errors.length) throw new Error(`reconciliation ${run.period}: ${errors.join('; ')}`);
    return { run: { ...run, status: 'succeeded', counts }, counts, findings: items };
  } catch (err) {
    if (errors.length === 0)
      await finishRun(db, run.id, { counts, error: (err as Error).message }).catch(() => {});
    throw err;
  }
}

async function reconcileChannel(
  o: ReconcileOptions,
  run: ReconciliationRun,
  channel: Channel,
  overlapSeconds: number,
  counts: Record<string, number>,
): Promise<void> {
  const { db, log } = o;
  const channels = o.channels as ChannelContext;
  const connector = connectorOf(channel);
  const ctx = connectorContext(channels, channel);
  const row = await db('channels').where({ id: channel.id }).first('reconcile_cancel');
  const healCancel = Boolean(Number(row?.reconcile_cancel ?? 1));
  const window = { from: o.periodStart.getTime() - overlapSeconds * 1000, to: o.periodEnd.getTime() };

  let began = Date.now();
  const orders = await compareChannelOrders(db, channel, connector, ctx, window, healCancel);
  counts.msOrderCompare = (counts.msOrderCompare ?? 0) + (Date.now() - began);
  counts.ordersRead = (counts.ordersRead ?? 0) + orders.read;
  counts.ordersCompared = (counts.ordersCompared ?? 0) + orders.compared;
  const stock = await compareChannelStock(db, channel, connector, ctx);
  counts.skusCompared = (counts.skusCompared ?? 0) + stock.compared;
  const drafts = [...orders.drafts, ...stock.drafts];
  const stored = await recordFindings(db, run, drafts);
  recordNewFindings(run.id, stored.values());
  began = Date.now();

  // Heals: each claimed for this run first; one that could not be made is given back.
  const claimed = async (d: FindingDraft): Promise<Finding | null> => {
    const f = stored.get(findingKey(d));
    if (!f || !(await claimHeal(db, f.id, run.id))) return null;
    return f;
  };
  const intake = new Map<string, Finding>();
  for (const d of drafts) {
    if (d.heal !== 'intake' && d.heal !== 'cancel') continue;
    const f = await claimed(d);
    if (f) intake.set(d.subject.slice(channelKey(channel).length + 1), f);
  }
  if (intake.size > 0) {
    const healed = await takeInOrders(db, channel, connector, ctx, [...intake.keys()]);
    for (const [id, f] of intake) {
      const outcome = healed.done.get(id);
      if (outcome) {
        await noteHeal(db, f.id, `taken in through the channel intake: ${outcome}`);
        counts.healed = (counts.healed ?? 0) + 1;
      } else {
        await releaseHeal(db, f.id, run.id, healed.failed.get(id) ?? 'unknown');
        counts.healFailed = (counts.healFailed ?? 0) + 1;
      }
    }
    await channels.enqueueOrders(healed.toProcess);
  }
  let pushes = 0;
  for (const d of drafts) {
    if (d.heal !== 'push') continue;
    const f = await claimed(d);
    if (!f) continue;
    try {
      const sku = d.subject.slice(channelKey(channel).length + 1);
      await markDriftForPush(db, channel.id, sku, (d.theirs?.shown as number | null) ?? null);
      await noteHeal(db, f.id, 'marked for a push of the formula’s figure');
      counts.healed = (counts.healed ?? 0) + 1;
      pushes++;
    } catch (err) {
      await releaseHeal(db, f.id, run.id, (err as Error).message);
      counts.healFailed = (counts.healFailed ?? 0) + 1;
    }
  }
  if (pushes > 0) await channels.requestPush(channel.id);
  counts.msHeals = (counts.msHeals ?? 0) + (Date.now() - began);
  log.info(
    { channel: channelKey(channel), read: orders.read, compared: orders.compared, findings: drafts.length },
    'reconciled a channel',
  );
}
