import type { NormalizedLine, NormalizedRefund } from '../../connectors/contract.js';
import { applyRefundMoneyLocked, type RefundMoneyDone, refundMoneyNote } from '../billing/refund-money.js';
import type { Tx } from '../db/connection.js';
import { type ChannelRefund, planChannelReturns } from '../domain/channel-returns.js';
import { codeKey } from '../domain/codes.js';
import type { OrderLineInput } from '../domain/order-input.js';
import type { LockedOrder } from '../orders/order-store.js';
import { RETURNABLE, returnLocked } from '../orders/returns.js';
import { lockStock } from '../stock/stock-store.js';
import { connectorOf } from './channel-context.js';
import type { Channel } from './channel-store.js';
import { mapOrderLines } from './sku-map.js';

/** What a channel's refunds did to an order. */
export interface ChannelReturns {
  /** One per return recorded now: its reference (the refund id) and what it says. */
  returns: { reference: string; returnId: number; summary: string; creditNotes: string[] }[];
  /** SKUs restocked: backorders may take them once the caller has committed. */
  restocked: number[];
  /** What the refunds' money did (allowances credited, carried or held; payouts), once each. */
  money: RefundMoneyDone[];
}

const NONE: ChannelReturns = { returns: [], restocked: [], money: [] };

/** Whether applying refunds changed anything (a return, or money recorded). */
export const changedAnything = (r: ChannelReturns) => r.returns.length > 0 || r.money.length > 0;

/**
 * Units per SKU (by `codeKey`) a channel's version of the order still holds (its lines after the
 * refunds, mapped to our SKUs): what `planChannelReturns` weighs our lines against.
 */
export function channelUnits(lines: readonly OrderLineInput[]): Map<string, number> {
  const units = new Map<string, number>();
  for (const l of lines) units.set(codeKey(l.sku), (units.get(codeKey(l.sku)) ?? 0) + l.quantity);
  return units;
}

/**
 * Turns a channel's refunds of an order the caller has locked into returns, in the caller's
 * transaction (stock rows and the invoice sequence are locked after the order, by `returnLocked`):
 * the refunded units that shipped come back (see `planChannelReturns`), each refund one return whose
 * reference is the refund's id, source `channel`; a refund recorded before changes nothing.
 * `channelCurrent` is what the channel's order still holds (null when the payload is a refund alone).
 * Then, unless `money: false` (the caller applies it later with `withRefundMoney`), the refunds'
 * money: payouts and allowances, once per refund.
 */
export async function applyChannelRefunds(
  tx: Tx,
  channel: Channel,
  locked: LockedOrder,
  refunds: readonly NormalizedRefund[],
  channelCurrent: ReadonlyMap<string, number> | null,
  actor: string,
  now: string,
  options: { money?: boolean } = {},
): Promise<ChannelReturns> {
  const made = await applyReturns(tx, channel, locked, refunds, channelCurrent, actor, now);
  if (options.money === false) return made;
  return withRefundMoney(tx, locked, refunds, made, actor, now);
}

/**
 * The money of the refunds, after their returns (whose credit notes gave money back to the order's
 * channel receipt): paid out, and what is beyond the refunded units an allowance (see
 * `applyRefundMoneyLocked`). A caller that changes the order further in the same transaction calls
 * this after that change, so that the invoice sequence and the receipt stay the last locks taken.
 */
export async function withRefundMoney(
  tx: Tx,
  locked: LockedOrder,
  refunds: readonly NormalizedRefund[],
  made: ChannelReturns,
  actor: string,
  now: string,
): Promise<ChannelReturns> {
  const withMoney = refunds.flatMap((r) => (r.money ? [{ reference: r.id, money: r.money }] : []));
  if (withMoney.length === 0) return made;
  const money = await applyRefundMoneyLocked(tx, locked.order, withMoney, actor, now);
  return money.length === 0 ? made : { ...made, money };
}

/** The returns of `applyChannelRefunds` (its comment). */
async function applyReturns(
  tx: Tx,
  channel: Channel,
  locked: LockedOrder,
  refunds: readonly NormalizedRefund[],
  channelCurrent: ReadonlyMap<string, number> | null,
  actor: string,
  now: string,
): Promise<ChannelReturns> {
  const withUnits = refunds.filter((r) => r.lines.length > 0);
  // Nothing shipped (most updates of an order): no refund of it is a return, and nothing is read.
  if (withUnits.length === 0 || !RETURNABLE.includes(locked.order.status)) return NONE;
  if (!locked.lines.some((l) => l.shipped > l.returned)) return NONE;

  const recorded = new Set<string>(
    (
      await tx('order_returns')
        .where('order_id', locked.order.id)
        .whereIn(
          'reference',
          withUnits.map((r) => r.id),
        )
        .select('reference')
    ).map((r) => String(r.reference)),
  );
  const fresh = withUnits.filter((r) => !recorded.has(r.id));
  if (fresh.length === 0) return NONE;

  // The refunded items as our SKUs, the way the order's lines are mapped; an item mapped to none of
  // our SKUs is on none of our lines, so none of it is returned.
  const flat = fresh.flatMap((r) => r.lines);
  const asLines: NormalizedLine[] = flat.map((l) => ({
    channelSku: l.channelSku,
    productId: l.productId,
    variantId: l.variantId,
    inventoryItemId: l.inventoryItemId ?? null,
    quantity: l.quantity,
    unitPrice: 0,
  }));
  const mapped = await mapOrderLines(
    tx,
    channel.id,
    {
      externalId: locked.order.externalId,
      currency: locked.order.currency,
      placedAt: locked.order.placedAt,
      updatedAt: locked.order.placedAt,
      cancelled: false,
      lines: asLines,
      problems: [],
    },
    now,
  );
  const unmapped = new Set(mapped.problems.map((p) => p.lineNo));
  let at = 0;
  const ours: ChannelRefund[] = fresh.map((r) => ({
    reference: r.id,
    lines: r.lines.flatMap((l) => {
      at++;
      return unmapped.has(at)
        ? []
        : [{ sku: mapped.lines[at - 1]!.sku, quantity: l.quantity, restockType: l.restockType }];
    }),
  }));

  const plans = planChannelReturns(ours, locked.lines, {
    recorded,
    channelCurrent,
    restockUnsaid: connectorOf(channel).restockOnRefund?.(channel.settings) ?? false,
  });
  const out: ChannelReturns = { returns: [], restocked: [], money: [] };
  // Several refunds in one version: each return may credit an invoice (the invoice sequence, last in
  // the lock order), so the stock rows of every line are locked first, in one sorted pass.
  if (plans.length > 1)
    await lockStock(
      tx,
      locked.lines.map((l) => l.skuId).filter((id): id is number => id !== null),
    );
  for (const plan of plans) {
    const done = await returnLocked(
      tx,
      locked,
      {
        lines: plan.lines,
        restock: plan.lines.some((l) => l.restock),
        reason: `refund ${plan.reference} on the channel`,
        reference: plan.reference,
        source: 'channel',
      },
      actor,
      now,
    );
    if (done.duplicate) continue;
    out.returns.push({
      reference: plan.reference,
      returnId: done.returnId,
      summary: plan.lines
        .map((l) => `${l.quantity} × ${l.sku}${l.restock ? ' restocked' : ' not restocked'}`)
        .join(', '),
      creditNotes: done.creditNotes,
    });
    out.restocked.push(...done.restocked);
  }
  out.restocked = [...new Set(out.restocked)];
  return out;
}

/** A short note of the returns made, for the inbound event. */
export function returnsNote(r: ChannelReturns): string {
  const returned = r.returns
    .map(
      (x) =>
        `refund ${x.reference} returned ${x.summary}${x.creditNotes.length ? ` (credit ${x.creditNotes.join(', ')})` : ''}`,
    )
    .join('; ');
  const money = refundMoneyNote(r.money);
  return [returned, money].filter((x) => x !== '').join('; ');
}
