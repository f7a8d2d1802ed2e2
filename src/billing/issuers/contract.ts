/**
 * The invoice-issuer connector contract: how an issued invoice or credit note of ours becomes a
 * legal e-invoice. Shaped for China's fully digitalised e-invoice (数电票) service providers:
 *
 * - Every request carries our **request serial** (`serial`), derived from our invoice number. A
 *   provider must treat it as an idempotency key: the same serial again returns the result of the
 *   first request and never makes a second invoice.
 * - Issuing is **asynchronous**: `issueBlue` may answer `pending`, and `queryBlue` is polled until
 *   the invoice is `issued` (with the platform's own 20-digit invoice number, which we store beside
 *   ours — our number stays the internal series) or `failed`.
 * - A credit note is a **red invoice (冲红)**: `requestRed` files a red-letter confirmation
 *   (红字确认单) against the blue invoice's platform number. It may need the buyer's confirmation,
 *   so it is asynchronous too (`pending_confirmation`), can be `refused` (the credit note stays
 *   pending e-invoicing, with the reason), and once `confirmed` the red invoice is issued.
 * - The buyer's tax id and a tax classification code (税收分类编码) per line go with each request.
 *
 * The built-in `local` issuer (./local.ts) issues nothing outside: our Excel document is the
 * invoice. A real provider is one more implementation of this interface.
 */

export interface IssuerParty {
  name: string;
  taxId: string | null;
  address: string | null;
}

export interface IssuerLine {
  lineNo: number;
  sku: string;
  description: string;
  /** 税收分类编码: the tax class's code, else the tax class itself. */
  taxCode: string | null;
  quantity: number;
  /** Minor units of `currency`. */
  unitPrice: number;
  discount: number;
  amount: number;
  tax: number;
}

export interface BlueInvoiceRequest {
  serial: string;
  /** Our invoice number (INV-…). */
  number: string;
  issueDate: string;
  currency: string;
  pricesIncludeTax: boolean;
  seller: IssuerParty;
  buyer: IssuerParty;
  lines: IssuerLine[];
  /** Minor units. */
  tax: number;
  total: number;
}

export interface RedInvoiceRequest {
  serial: string;
  /** Our credit note number (CN-…). */
  number: string;
  /** The blue invoice: our number and the platform's. */
  originalNumber: string;
  originalPlatformNumber: string | null;
  reason: string;
  issueDate: string;
  currency: string;
  seller: IssuerParty;
  buyer: IssuerParty;
  /** The credited quantities and amounts, positive. */
  lines: IssuerLine[];
  tax: number;
  total: number;
}

export type IssueStatus = 'pending' | 'issued' | 'failed';

export interface IssueResult {
  serial: string;
  status: IssueStatus;
  /** The platform's 20-digit invoice number once issued (null for the local issuer). */
  platformNumber: string | null;
  message: string | null;
}

export type RedLetterStatus = 'pending_confirmation' | 'confirmed' | 'refused';

export interface RedResult extends IssueResult {
  confirmation: RedLetterStatus;
}

export interface InvoiceIssuer {
  /** Stored with each invoice it issues. */
  readonly name: string;
  /**
   * Issues every request at once, blue and red alike, with no platform number and nothing to send
   * (the `local` issuer): invoices are then marked issued in one statement, no request built.
   */
  readonly immediate?: boolean;
  /** Issues a blue invoice, or returns what the same serial got before. */
  issueBlue(request: BlueInvoiceRequest): Promise<IssueResult>;
  queryBlue(serial: string): Promise<IssueResult>;
  /** Files a red-letter confirmation and, once confirmed, issues the red invoice; idempotent on serial. */
  requestRed(request: RedInvoiceRequest): Promise<RedResult>;
  queryRed(serial: string): Promise<RedResult>;
}
