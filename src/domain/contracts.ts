import { codeKey } from './codes.js';
import type { OrderProblem } from './order-input.js';

/**
 * Sales contracts (blanket orders), as decisions over plain data: which contract an order draws
 * on, whether its lines fit what each contract line has left (with the allowed overrun), and at
 * which price. No I/O here: `src/customers/contract-rule.ts` loads and locks the contract lines
 * of a group of orders and writes what was decided.
 */

/** What a channel does for an order that names no contract. */
export type ContractDefault = 'none' | 'only_active';
export const CONTRACT_DEFAULTS: readonly ContractDefault[] = ['none', 'only_active'];

export interface ContractInfo {
  id: number;
  number: string;
  customerId: number;
  currency: string;
  /** Inclusive `YYYY-MM-DD` in the business time zone. */
  validFrom: string;
  validTo: string;
}

export interface ContractLineState {
  id: number;
  contractId: number;
  lineNo: number;
  sku: string;
  /** Contracted quantity. */
  quantity: number;
  /** Contract price per unit, minor units of the contract's currency. */
  price: number;
  /** Allowed overrun, hundredths of a percent of the contracted quantity (500 = 5 %). */
  overrunBp: number;
  /** Drawn so far, net of give-backs. */
  drawn: number;
}

/** The most a contract line may have drawn: its quantity plus the overrun allowance, rounded down. */
export function drawLimit(line: Pick<ContractLineState, 'quantity' | 'overrunBp'>): number {
  return line.quantity + Math.floor((line.quantity * line.overrunBp) / 10_000);
}

export type ContractValidity = 'active' | 'not_yet_valid' | 'expired';

export function validityOn(
  contract: Pick<ContractInfo, 'validFrom' | 'validTo'>,
  date: string,
): ContractValidity {
  if (date < contract.validFrom) return 'not_yet_valid';
  if (date > contract.validTo) return 'expired';
  return 'active';
}

/** A contract line's figures as the API shows them. */
export function lineFigures(line: ContractLineState, shipped: number) {
  const limit = drawLimit(line);
  return {
    contracted: line.quantity,
    allowance: limit - line.quantity,
    drawn: line.drawn,
    shipped,
    /** Of the contracted quantity (never below 0). */
    remaining: Math.max(0, line.quantity - line.drawn),
    /** What an order may still draw, the allowance included. */
    available: Math.max(0, limit - line.drawn),
  };
}

/** An order as the contract decision sees it. */
export interface ContractOrder {
  /** Null for an order without a (known) customer. */
  customerId: number | null;
  currency: string;
  /** The order's date in the business time zone, `YYYY-MM-DD`. */
  date: string;
  /** The contract the order names, or null. */
  contractNumber: string | null;
  /** The order's channel setting for orders naming no contract. */
  contractDefault: ContractDefault;
  lines: readonly { lineNo: number; sku: string; quantity: number }[];
}

export interface ContractDraw {
  lineNo: number;
  contractLineId: number;
  contractLineNo: number;
  quantity: number;
  /** The contract price the order line is sold at. */
  price: number;
}

export interface ContractDecision {
  problems: OrderProblem[];
  /** The contract the order draws on; null when it draws on none. */
  contract: ContractInfo | null;
  /** How the contract was chosen: named by the order, or its customer's only active contract. */
  via: 'order' | 'only_active' | null;
  draws: ContractDraw[];
}

const none = (problems: OrderProblem[] = []): ContractDecision => ({
  problems,
  contract: null,
  via: null,
  draws: [],
});

/**
 * Decides the contract draws of one order, given the contracts it could draw on and their lines
 * (with what earlier orders have drawn). An order that names a contract draws on it and every line
 * must be on it; an order that names none draws on its customer's only active contract in its
 * currency when its channel says `only_active` (and then only lines whose SKU is on it draw; the
 * others are sold as usual), else on nothing. Problems (each holds the order):
 * `contract_unknown`, `contract_customer`, `contract_not_yet_valid`, `contract_expired`,
 * `contract_currency`, `contract_ambiguous`, `contract_sku` and `contract_exceeded` (with the
 * figures: contracted, allowance, limit, drawn, available and requested).
 */
export function decideContract(
  order: ContractOrder,
  contracts: readonly ContractInfo[],
  linesOf: (contractId: number) => readonly ContractLineState[],
): ContractDecision {
  let contract: ContractInfo | undefined;
  let via: 'order' | 'only_active';
  if (order.contractNumber !== null) {
    via = 'order';
    const wanted = codeKey(order.contractNumber);
    contract = contracts.find((c) => codeKey(c.number) === wanted);
    if (!contract)
      return none([
        {
          code: 'contract_unknown',
          message: `the order names contract ${order.contractNumber}, which does not exist`,
          contract: order.contractNumber,
        } as OrderProblem,
      ]);
    if (contract.customerId !== order.customerId)
      return none([
        {
          code: 'contract_customer',
          message: `contract ${contract.number} is not a contract of the order's customer`,
          contract: contract.number,
        } as OrderProblem,
      ]);
  } else {
    if (order.contractDefault !== 'only_active' || order.customerId === null) return none();
    via = 'only_active';
    const active = contracts.filter(
      (c) =>
        c.customerId === order.customerId &&
        c.currency === order.currency &&
        validityOn(c, order.date) === 'active',
    );
    if (active.length === 0) return none();
    if (active.length > 1)
      return none([
        {
          code: 'contract_ambiguous',
          message: `the customer has ${active.length} active contracts in ${order.currency} (${active
            .map((c) => c.number)
            .join(', ')}): the order must name one`,
          contracts: active.map((c) => c.number),
        } as OrderProblem,
      ]);
    contract = active[0]!;
  }

  const validity = validityOn(contract, order.date);
  if (validity !== 'active')
    return none([
      {
        code: validity === 'expired' ? 'contract_expired' : 'contract_not_yet_valid',
        message:
          validity === 'expired'
            ? `contract ${contract.number} ended on ${contract.validTo}; the order is of ${order.date}`
            : `contract ${contract.number} starts on ${contract.validFrom}; the order is of ${order.date}`,
        contract: contract.number,
        validFrom: contract.validFrom,
        validTo: contract.validTo,
        orderDate: order.date,
      } as OrderProblem,
    ]);
  if (contract.currency !== order.currency)
    return none([
      {
        code: 'contract_currency',
        message: `contract ${contract.number} is in ${contract.currency}, the order in ${order.currency}`,
        contract: contract.number,
      } as OrderProblem,
    ]);

  const bySku = new Map(linesOf(contract.id).map((l) => [codeKey(l.sku), l]));
  const problems: OrderProblem[] = [];
  const draws: ContractDraw[] = [];
  const requested = new Map<ContractLineState, { quantity: number; lineNos: number[] }>();
  for (const line of order.lines) {
    const cl = bySku.get(codeKey(line.sku));
    if (!cl) {
      if (via === 'order')
        problems.push({
          code: 'contract_sku',
          message: `line ${line.lineNo}: ${line.sku} is not on contract ${contract.number}`,
          lineNo: line.lineNo,
          sku: line.sku,
          contract: contract.number,
        } as OrderProblem);
      continue;
    }
    const r = requested.get(cl) ?? { quantity: 0, lineNos: [] };
    r.quantity += line.quantity;
    r.lineNos.push(line.lineNo);
    requested.set(cl, r);
    draws.push({
      lineNo: line.lineNo,
      contractLineId: cl.id,
      contractLineNo: cl.lineNo,
      quantity: line.quantity,
      price: cl.price,
    });
  }
  for (const [cl, r] of requested) {
    const limit = drawLimit(cl);
    if (cl.drawn + r.quantity <= limit) continue;
    const available = Math.max(0, limit - cl.drawn);
    problems.push({
      code: 'contract_exceeded',
      message:
        `${r.lineNos.length > 1 ? 'lines' : 'line'} ${r.lineNos.join(', ')}: ${r.quantity} × ${cl.sku} ` +
        `is more than contract ${contract.number} has left (${available} of ${cl.quantity} contracted ` +
        `plus ${limit - cl.quantity} allowed overrun; ${cl.drawn} drawn)`,
      lineNo: r.lineNos[0],
      sku: cl.sku,
      contract: contract.number,
      contractLine: cl.lineNo,
      contracted: cl.quantity,
      allowance: limit - cl.quantity,
      limit,
      drawn: cl.drawn,
      available,
      requested: r.quantity,
    } as OrderProblem);
  }
  if (problems.length > 0) return { problems, contract, via, draws: [] };
  return { problems, contract, via, draws };
}
