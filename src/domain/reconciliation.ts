import type { ChannelOrderSummary } from '../../connectors/contract.js';

/*
 * The reconciliation diff: pure comparisons of what a channel says with what we hold. The shell
 * reads both sides and stores what these return (README "Reconciliation (对账)").
 */

export type FindingKind =
  | 'order.missing_here'
  | 'order.missing_there'
  | 'order.cancelled_there'
  | 'order.cancelled_here'
  | 'order.amount_differs'
  | 'stock.drift'
  | 'ledger.mismatch'
  | 'reservation.mismatch'
  | 'history.mismatch'
  | 'invoice.exceeds_shipment'
  | 'invoice.paid_mismatch'
  | 'statement.balance_differs'
  | 'refund.held';

export type Severity = 'info' | 'warning' | 'error';

/** How a finding can be healed: taken in through intake, cancelled through intake, pushed again. */
export type HealAction = 'intake' | 'cancel' | 'push';

/** A finding as a check returns it, before it is stored. */
export interface FindingDraft {
  kind: FindingKind;
  severity: Severity;
  /** `shopify:3` or `internal`. */
  source: string;
  /** What it is about; with the kind, the finding's stable key. */
  subject: string;
  ours: Record<string, unknown> | null;
  theirs: Record<string, unknown> | null;
  message: string;
  /** Set when the run may heal it. */
  heal?: HealAction;
}

export const findingKey = (d: Pick<FindingDraft, 'kind' | 'subject'>) =>
  `${d.kind}:${d.subject}`.slice(0, 191);

/** Our order as reconciliation compares it. */
export interface OurOrder {
  externalId: string;
  status: string;
  /** Open: still holds or waits for stock, can be cancelled. */
  open: boolean;
  currency: string;
  total: number;
  tax: number;
  shipping: number;
  /** ISO 8601 UTC. */
  placedAt: string;
}

/** The instants one run compares: [from, to). */
export interface ReconWindow {
  from: number;
  to: number;
}

const inWindow = (iso: string, w: ReconWindow) => {
  const t = Date.parse(iso);
  return t >= w.from && t < w.to;
};

/** Whether a channel order belongs to the window: placed or changed in it. */
export const theirsInWindow = (o: ChannelOrderSummary, w: ReconWindow) =>
  inWindow(o.placedAt, w) || inWindow(o.updatedAt, w);

/** Whether our order belongs to the window on our side: placed in it. */
export const oursInWindow = (o: OurOrder, w: ReconWindow) => inWindow(o.placedAt, w);

const money = (o: { total?: number; tax?: number; shipping?: number; currency: string }) => ({
  currency: o.currency,
  ...(o.total === undefined ? {} : { total: o.total }),
  ...(o.tax === undefined ? {} : { tax: o.tax }),
  ...(o.shipping === undefined ? {} : { shipping: o.shipping }),
});

/**
 * One channel order against ours (null: we do not have it). Missing here is healed by intake;
 * cancelled there and open here by cancelling (when `healCancel`), else reported; the reverse, and
 * amounts that differ (total, tax, shipping — compared only where the channel gives a figure, and
 * not for orders cancelled on either side), are reported.
 */
export function compareOrder(
  source: string,
  theirs: ChannelOrderSummary,
  ours: OurOrder | null,
  healCancel: boolean,
): FindingDraft[] {
  const subject = `${source}:${theirs.externalId}`;
  const their = {
    name: theirs.name ?? null,
    cancelled: theirs.cancelled,
    updatedAt: theirs.updatedAt,
    ...money(theirs),
  };
  if (!ours) {
    return [
      {
        kind: 'order.missing_here',
        severity: 'error',
        source,
        subject,
        ours: null,
        theirs: their,
        message: `order ${theirs.name ?? theirs.externalId} is on the channel but not here`,
        heal: 'intake',
      },
    ];
  }
  const our = { status: ours.status, ...money(ours) };
  if (theirs.cancelled && ours.open) {
    return [
      {
        kind: 'order.cancelled_there',
        severity: 'error',
        source,
        subject,
        ours: our,
        theirs: their,
        message: `order ${theirs.name ?? theirs.externalId} is cancelled on the channel but ${ours.status} here`,
        ...(healCancel ? { heal: 'cancel' as const } : {}),
      },
    ];
  }
  if (!theirs.cancelled && ours.status === 'cancelled') {
    return [
      {
        kind: 'order.cancelled_here',
        severity: 'warning',
        source,
        subject,
        ours: our,
        theirs: their,
        message: `order ${theirs.name ?? theirs.externalId} is cancelled here but open on the channel`,
      },
    ];
  }
  if (theirs.cancelled || ours.status === 'cancelled') return [];
  const differs: string[] = [];
  if (theirs.currency !== ours.currency) differs.push('currency');
  else {
    if (theirs.total !== undefined && theirs.total !== ours.total) differs.push('total');
    if (theirs.tax !== undefined && theirs.tax !== ours.tax) differs.push('tax');
    if (theirs.shipping !== undefined && theirs.shipping !== ours.shipping) differs.push('shipping');
  }
  if (differs.length === 0) return [];
  return [
    {
      kind: 'order.amount_differs',
      severity: 'warning',
      source,
      subject,
      ours: our,
      theirs: their,
      message: `order ${theirs.name ?? theirs.externalId}: ${differs.join(', ')} differ`,
    },
  ];
}

/** Our order of the window that the channel does not list. */
export function missingThere(source: string, ours: OurOrder): FindingDraft {
  return {
    kind: 'order.missing_there',
    severity: 'warning',
    source,
    subject: `${source}:${ours.externalId}`,
    ours: { status: ours.status, placedAt: ours.placedAt, ...money(ours) },
    theirs: null,
    message: `order ${ours.externalId} is here (${ours.status}) but the channel does not list it`,
  };
}

/** One (channel, SKU) as reconciliation compares it. */
export interface StockPosition {
  sku: string;
  /** What we last told the channel (null: never). */
  published: number | null;
  /** What the formula gives now. */
  expected: number;
  /** What the channel shows (null: it could not say). */
  shown: number | null;
  /** A push is already waiting. */
  pending: boolean;
}

/**
 * Stock drift: the channel shows another figure than the formula gives now (or, when it cannot
 * say, we last told it another one), and no push is already on its way. Healed by a push.
 */
export function compareStock(source: string, p: StockPosition): FindingDraft | null {
  if (p.pending) return null;
  const off = p.shown !== null ? p.shown !== p.expected : p.published !== p.expected;
  if (!off) return null;
  return {
    kind: 'stock.drift',
    severity: 'warning',
    source,
    subject: `${source}:${p.sku}`,
    ours: { published: p.published, expected: p.expected },
    theirs: { shown: p.shown },
    message: `${p.sku}: the channel shows ${p.shown ?? 'nothing'}, we last published ${p.published ?? 'nothing'}, the formula gives ${p.expected}`,
    heal: 'push',
  };
}
