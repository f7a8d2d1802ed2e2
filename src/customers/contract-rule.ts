import { lockClause, rawRows, type Tx } from '../db/connection.js';
import {
  type ContractDefault,
  type ContractDraw,
  type ContractInfo,
  type ContractLineState,
  decideContract,
  drawLimit,
} from '../domain/contracts.js';
import { businessDate } from '../domain/pricing.js';
import type { OrderRule, RuleOrder, RuleStatements } from '../orders/order-rules.js';
import { toContract, toContractLine } from './contracts.js';

/** The contracts a group of orders may draw on, their lines locked, and each order's contract data. */
interface ContractState {
  orders: Map<
    number,
    { customerId: number | null; contractNumber: string | null; contractDefault: ContractDefault }
  >;
  contracts: ContractInfo[];
  /** Lines by contract id; `drawn` goes up as orders of the group take their draws. */
  lines: Map<number, ContractLineState[]>;
}

interface ContractEffect {
  contractId: number;
  draws: ContractDraw[];
}

const marks = (n: number) => new Array(n).fill('?').join(', ');

/** The contract rule's locking round trip for a group of orders (`load`, or sent with the other rules'). */
function contractStatements(tx: Tx, orders: readonly RuleOrder[]): RuleStatements<ContractState> {
  const ids = orders.map((o) => o.order.id);
  const m = marks(ids.length);
  // One round trip: the orders' contract numbers and channel defaults (orders are locked by this
  // transaction already), then the contract lines locked in id order — those of the contracts
  // the orders name, and of their customers' contracts for orders of `only_active` channels.
  return {
    sql:
      'SELECT o.id, o.customer_id, o.contract_number, s.contract_default FROM orders o ' +
      `LEFT JOIN channel_contract_settings s ON s.channel = o.channel WHERE o.id IN (${m}); ` +
      'SELECT cl.*, c.number, c.customer_id, c.currency, c.valid_from, c.valid_to ' +
      'FROM contracts c JOIN contract_lines cl ON cl.contract_id = c.id WHERE c.id IN (' +
      `SELECT c2.id FROM orders o JOIN contracts c2 ON c2.number = o.contract_number WHERE o.id IN (${m}) ` +
      'UNION SELECT c3.id FROM orders o ' +
      "JOIN channel_contract_settings s ON s.channel = o.channel AND s.contract_default = 'only_active' " +
      `JOIN contracts c3 ON c3.customer_id = o.customer_id WHERE o.id IN (${m}) AND o.contract_number IS NULL` +
      `) ORDER BY cl.id${lockClause(tx)}`,
    bindings: [...ids, ...ids, ...ids],
    parse: ([orderRows = [], lineRows = []]) => contractState(orderRows, lineRows),
  };
}

/** The contract rule's state from the rows of its statements. */
function contractState(
  orderRows: Record<string, unknown>[],
  lineRows: Record<string, unknown>[],
): ContractState {
  const state: ContractState = { orders: new Map(), contracts: [], lines: new Map() };
  for (const r of orderRows)
    state.orders.set(Number(r.id), {
      customerId: r.customer_id === null ? null : Number(r.customer_id),
      contractNumber: (r.contract_number as string | null) ?? null,
      contractDefault: r.contract_default === 'only_active' ? 'only_active' : 'none',
    });
  const contracts = new Map<number, ContractInfo>();
  for (const r of lineRows) {
    const line = toContractLine(r);
    if (!contracts.has(line.contractId))
      contracts.set(line.contractId, toContract({ ...r, id: line.contractId }));
    const list = state.lines.get(line.contractId) ?? [];
    list.push(line);
    state.lines.set(line.contractId, list);
  }
  state.contracts = [...contracts.values()];
  return state;
}

/**
 * Sales contracts as an order rule (src/orders/order-rules.ts), first to decide: an order drawing
 * on a contract is sold at the contract price, and held when a line would take more than the
 * contract line has left with its allowed overrun (`contract_exceeded`) — see
 * src/domain/contracts.ts. `load` locks the lines of every contract the group's orders may draw on,
 * in id order (lock rank 30: after the customer and salesperson, before promotion counters and
 * stock), and reads them after the lock; the group's orders then draw in turn against those locked
 * figures, so concurrent draws never take more than the limit. `take` queues the draws: the
 * counter update (guarded by the limit as well), a ledger row per order line, the contract line on
 * the order line and the contract on the order.
 */
export const contractRule: OrderRule<ContractState, ContractEffect> = {
  name: 'contract',
  lockRank: 30,

  async load(tx, orders) {
    const locking = contractStatements(tx, orders);
    return locking.parse(await rawRows(tx, locking.sql, locking.bindings));
  },

  prepare: async (tx, orders) => contractStatements(tx, orders),

  decide(state, draft, ctx) {
    const data = state.orders.get(draft.order.id);
    if (!data || (data.contractNumber === null && data.contractDefault === 'none')) return { problems: [] };
    const decision = decideContract(
      {
        customerId: draft.order.customerId ?? data.customerId,
        currency: draft.order.currency,
        date: businessDate(draft.order.placedAt, ctx.timeZone),
        contractNumber: data.contractNumber,
        contractDefault: data.contractDefault,
        lines: draft.lines.map((l) => ({ lineNo: l.lineNo, sku: l.sku, quantity: l.ordered - l.cancelled })),
      },
      state.contracts,
      (id) => state.lines.get(id) ?? [],
    );
    if (decision.problems.length > 0 || !decision.contract || decision.draws.length === 0)
      return { problems: decision.problems };
    // The contract price wins over the price the check left.
    for (const d of decision.draws) {
      const line = draft.lines.find((l) => l.lineNo === d.lineNo);
      if (line) line.unitPrice = d.price;
    }
    const lineOf = new Map((state.lines.get(decision.contract.id) ?? []).map((l) => [l.id, l]));
    return {
      problems: [],
      effect: { contractId: decision.contract.id, draws: decision.draws },
      info: {
        contract: decision.contract.number,
        via: decision.via,
        lines: decision.draws.map((d) => {
          const cl = lineOf.get(d.contractLineId)!;
          return {
            lineNo: d.lineNo,
            contractLine: d.contractLineNo,
            quantity: d.quantity,
            price: d.price,
            availableBefore: drawLimit(cl) - cl.drawn,
          };
        }),
      },
    };
  },

  take(state, draft, effect, batch, ctx) {
    if (!effect) return;
    const lines = new Map((state.lines.get(effect.contractId) ?? []).map((l) => [l.id, l]));
    for (const d of effect.draws) {
      const cl = lines.get(d.contractLineId)!;
      const limit = drawLimit(cl);
      cl.drawn += d.quantity;
      const orderLine = draft.lines.find((l) => l.lineNo === d.lineNo)!;
      // The row is locked and its figure in memory; the guard makes an overdraw fail the
      // transaction all the same.
      batch.addSql(
        'UPDATE contract_lines SET drawn = drawn + ?, updated_at = ? WHERE id = ? AND drawn + ? <= ?',
        [d.quantity, ctx.now, cl.id, d.quantity, limit],
        {
          affected: 1,
          error: () =>
            new Error(`contract line ${cl.id}: drawing ${d.quantity} would pass its limit ${limit}`),
        },
      );
      batch.addSql(
        'INSERT INTO contract_draws (contract_line_id, order_id, order_line_id, quantity, unit_price, reason, actor, created_at) ' +
          'VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        [
          cl.id,
          draft.order.id,
          orderLine.id,
          d.quantity,
          d.price,
          // A reserved order whose lines changed draws again for its new lines.
          ctx.change === 'amend' ? 'lines_amended' : 'order',
          ctx.actor.slice(0, 64),
          ctx.now,
        ],
      );
      batch.addSql('UPDATE order_lines SET contract_line_id = ? WHERE id = ?', [cl.id, orderLine.id]);
    }
    batch.addSql('UPDATE orders SET contract_id = ? WHERE id = ?', [effect.contractId, draft.order.id]);
  },
};
