import type {
  BlueInvoiceRequest,
  InvoiceIssuer,
  IssueResult,
  RedInvoiceRequest,
  RedResult,
} from '../../src/billing/issuers/contract.js';

interface Blue {
  request: BlueInvoiceRequest;
  status: 'pending' | 'issued';
  platformNumber: string | null;
}
interface Red {
  request: RedInvoiceRequest;
  confirmation: 'pending_confirmation' | 'confirmed' | 'refused';
  status: 'pending' | 'issued';
  platformNumber: string | null;
  message: string | null;
}

/**
 * A 数电票 provider as the contract describes it, in memory: a request serial is an idempotency
 * key (the same serial returns the first result and never makes a second invoice); a blue invoice
 * is issued asynchronously (pending until `complete`, or the `pollsToIssue`-th query); a red
 * invoice needs a red-letter confirmation that the buyer `confirm`s or `refuse`s.
 */
export class FakeEinvoiceProvider implements InvoiceIssuer {
  readonly name = 'fake-sdp';
  readonly blue = new Map<string, Blue>();
  readonly red = new Map<string, Red>();
  /** Every invoice the platform made, blue and red: what a duplicate must not add to. */
  readonly issuedNumbers: string[] = [];
  requests = 0;
  private next = 44_000_000_000_000_000_000n;

  constructor(private readonly options: { pollsToIssue?: number } = {}) {}

  private platformNumber(): string {
    const n = String(this.next++);
    this.issuedNumbers.push(n);
    return n;
  }

  private blueResult(serial: string): IssueResult {
    const b = this.blue.get(serial);
    if (!b) return { serial, status: 'failed', platformNumber: null, message: 'unknown serial' };
    return { serial, status: b.status, platformNumber: b.platformNumber, message: null };
  }

  private redResult(serial: string): RedResult {
    const r = this.red.get(serial);
    if (!r)
      return {
        serial,
        status: 'failed',
        confirmation: 'refused',
        platformNumber: null,
        message: 'unknown serial',
      };
    return {
      serial,
      status: r.status,
      confirmation: r.confirmation,
      platformNumber: r.platformNumber,
      message: r.message,
    };
  }

  async issueBlue(request: BlueInvoiceRequest): Promise<IssueResult> {
    this.requests++;
    if (!this.blue.has(request.serial))
      this.blue.set(request.serial, { request, status: 'pending', platformNumber: null });
    return this.blueResult(request.serial);
  }

  private polls = new Map<string, number>();

  async queryBlue(serial: string): Promise<IssueResult> {
    const n = (this.polls.get(serial) ?? 0) + 1;
    this.polls.set(serial, n);
    if (this.options.pollsToIssue !== undefined && n >= this.options.pollsToIssue) this.complete(serial);
    return this.blueResult(serial);
  }

  /** The platform finishes issuing a blue invoice. */
  complete(serial: string): void {
    const b = this.blue.get(serial);
    if (b && b.status === 'pending') {
      b.status = 'issued';
      b.platformNumber = this.platformNumber();
    }
  }

  async requestRed(request: RedInvoiceRequest): Promise<RedResult> {
    this.requests++;
    if (!this.red.has(request.serial)) {
      const original = [...this.blue.values()].find(
        (b) => b.platformNumber === request.originalPlatformNumber,
      );
      this.red.set(request.serial, {
        request,
        confirmation: original ? 'pending_confirmation' : 'refused',
        status: 'pending',
        platformNumber: null,
        message: original ? null : 'no such blue invoice',
      });
    }
    return this.redResult(request.serial);
  }

  async queryRed(serial: string): Promise<RedResult> {
    return this.redResult(serial);
  }

  /** The buyer confirms the red-letter confirmation: the red invoice is issued. */
  confirm(serial: string): void {
    const r = this.red.get(serial);
    if (r && r.confirmation === 'pending_confirmation') {
      r.confirmation = 'confirmed';
      r.status = 'issued';
      r.platformNumber = this.platformNumber();
    }
  }

  /** The buyer refuses the red-letter confirmation. */
  refuse(serial: string, reason: string): void {
    const r = this.red.get(serial);
    if (r && r.confirmation === 'pending_confirmation') {
      r.confirmation = 'refused';
      r.message = reason;
    }
  }
}
