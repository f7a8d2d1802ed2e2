import { describe, expect, it } from 'vitest';
import {
  type ContractInfo,
  type ContractLineState,
  type ContractOrder,
  decideContract,
  drawLimit,
  lineFigures,
  validityOn,
} from '../../src/domain/contracts.js';

const contract = (over: Partial<ContractInfo> = {}): ContractInfo => ({
  id: 1,
  number: 'HT-001',
  customerId: 7,
  currency: 'CNY',
  validFrom: '2026-01-01',
  validTo: '2026-12-31',
  ...over,
});

const line = (over: Partial<ContractLineState> = {}): ContractLineState => ({
  id: 11,
  contractId: 1,
  lineNo: 1,
  sku: 'BOLT',
  quantity: 100,
  price: 850,
  overrunBp: 0,
  drawn: 0,
  ...over,
});

const order = (over: Partial<ContractOrder> = {}): ContractOrder => ({
  customerId: 7,
  currency: 'CNY',
  date: '2026-06-01',
  contractNumber: 'HT-001',
  contractDefault: 'none',
  lines: [{ lineNo: 1, sku: 'BOLT', quantity: 10 }],
  ...over,
});

const decide = (o: ContractOrder, contracts: ContractInfo[], lines: ContractLineState[]) =>
  decideContract(o, contracts, (id) => lines.filter((l) => l.contractId === id));

describe('contract figures', () => {
  it('the limit is the contracted quantity plus the overrun, rounded down', () => {
    expect(drawLimit({ quantity: 100, overrunBp: 0 })).toBe(100);
    expect(drawLimit({ quantity: 100, overrunBp: 500 })).toBe(105);
    expect(drawLimit({ quantity: 30, overrunBp: 500 })).toBe(31); // 1.5 -> 1
  });

  it('remaining and available never go below zero; an overrun shows as available 0', () => {
    expect(lineFigures(line({ quantity: 100, overrunBp: 500, drawn: 103 }), 20)).toEqual({
      contracted: 100,
      allowance: 5,
      drawn: 103,
      shipped: 20,
      remaining: 0,
      available: 2,
    });
  });

  it('validity is inclusive at both ends', () => {
    const c = contract();
    expect(validityOn(c, '2025-12-31')).toBe('not_yet_valid');
    expect(validityOn(c, '2026-01-01')).toBe('active');
    expect(validityOn(c, '2026-12-31')).toBe('active');
    expect(validityOn(c, '2027-01-01')).toBe('expired');
  });
});

describe('decideContract', () => {
  it('draws at the contract price; SKUs compare case-insensitively, numbers too', () => {
    const d = decide(
      order({ contractNumber: 'ht-001', lines: [{ lineNo: 1, sku: 'bolt', quantity: 10 }] }),
      [contract()],
      [line()],
    );
    expect(d.problems).toEqual([]);
    expect(d.via).toBe('order');
    expect(d.draws).toEqual([{ lineNo: 1, contractLineId: 11, contractLineNo: 1, quantity: 10, price: 850 }]);
  });

  it('holds contract_exceeded with the figures when the lines of an order together pass the limit', () => {
    const d = decide(
      order({
        lines: [
          { lineNo: 1, sku: 'BOLT', quantity: 60 },
          { lineNo: 2, sku: 'BOLT', quantity: 50 },
        ],
      }),
      [contract()],
      [line({ overrunBp: 500, drawn: 0 })],
    );
    expect(d.draws).toEqual([]);
    expect(d.problems).toEqual([
      expect.objectContaining({
        code: 'contract_exceeded',
        lineNo: 1,
        contracted: 100,
        allowance: 5,
        limit: 105,
        drawn: 0,
        available: 105,
        requested: 110,
      }),
    ]);
  });

  it('takes exactly up to the limit with the overrun, and not one more', () => {
    const lines = [line({ overrunBp: 500, drawn: 100 })];
    expect(
      decide(order({ lines: [{ lineNo: 1, sku: 'BOLT', quantity: 5 }] }), [contract()], lines).problems,
    ).toEqual([]);
    expect(
      decide(order({ lines: [{ lineNo: 1, sku: 'BOLT', quantity: 6 }] }), [contract()], lines).problems[0]
        ?.code,
    ).toBe('contract_exceeded');
  });

  it('names unknown, foreign, expired, not yet valid and other-currency contracts', () => {
    const code = (o: Partial<ContractOrder>, c = contract()) =>
      decide(order(o), [c], [line()]).problems[0]?.code;
    expect(code({ contractNumber: 'HT-404' })).toBe('contract_unknown');
    expect(code({ customerId: 8 })).toBe('contract_customer');
    expect(code({ customerId: null })).toBe('contract_customer');
    expect(code({ date: '2027-01-01' })).toBe('contract_expired');
    expect(code({ date: '2025-06-01' })).toBe('contract_not_yet_valid');
    expect(code({ currency: 'EUR' })).toBe('contract_currency');
  });

  it('a SKU not on a named contract holds the order, line by line', () => {
    const d = decide(
      order({
        lines: [
          { lineNo: 1, sku: 'BOLT', quantity: 1 },
          { lineNo: 2, sku: 'NUT', quantity: 1 },
        ],
      }),
      [contract()],
      [line()],
    );
    expect(d.problems).toEqual([expect.objectContaining({ code: 'contract_sku', lineNo: 2, sku: 'NUT' })]);
    expect(d.draws).toEqual([]);
  });

  describe('the channel default only_active', () => {
    const implicit = (o: Partial<ContractOrder> = {}) =>
      order({ contractNumber: null, contractDefault: 'only_active', ...o });

    it('draws on the only active contract in the order currency; other SKUs are sold as usual', () => {
      const d = decide(
        implicit({
          lines: [
            { lineNo: 1, sku: 'BOLT', quantity: 3 },
            { lineNo: 2, sku: 'NUT', quantity: 1 },
          ],
        }),
        [
          contract(),
          contract({ id: 2, number: 'OLD', validTo: '2025-12-31' }),
          contract({ id: 3, number: 'EUR-1', currency: 'EUR' }),
        ],
        [line()],
      );
      expect(d.problems).toEqual([]);
      expect(d.via).toBe('only_active');
      expect(d.contract?.number).toBe('HT-001');
      expect(d.draws.map((x) => x.lineNo)).toEqual([1]);
    });

    it('draws on nothing without a contract, and holds contract_ambiguous with two', () => {
      expect(decide(implicit(), [], [])).toMatchObject({ problems: [], contract: null, draws: [] });
      expect(decide(implicit(), [contract({ customerId: 9 })], [line()]).contract).toBeNull();
      const two = decide(implicit(), [contract(), contract({ id: 2, number: 'HT-002' })], [line()]);
      expect(two.problems[0]).toMatchObject({ code: 'contract_ambiguous', contracts: ['HT-001', 'HT-002'] });
    });

    it('does nothing for a channel without the default', () => {
      expect(decide(order({ contractNumber: null }), [contract()], [line()])).toMatchObject({
        problems: [],
        contract: null,
      });
    });
  });
});
