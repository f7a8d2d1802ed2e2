/** Where the file comes from: its bytes, or a path on disk (streamed, never read whole for .xlsx/.csv). */
export type OrderFileInput = { fileName: string; data: Buffer } | { fileName: string; path: string };

export interface ParseOrderFileOptions {
  /**
   * Currency of rows that have no currency column or leave it empty. An ISO 4217 code; an invalid
   * one is a programming error and throws a `RangeError`. Default: `EUR`.
   */
  defaultCurrency?: string;
  /**
   * Most data rows (blank rows not counted) a file may hold; a longer file is rejected whole, before
   * anything of it is imported. Default: 50,000.
   */
  maxRows?: number;
  /** Largest file read, in bytes; a larger one is refused whole. Default: 20 MiB (`MAX_ORDER_FILE_BYTES`). */
  maxFileBytes?: number;
  /**
   * The code of the customer who sent the file (an e-mailed sheet: the sender's customer). The
   * customer column is then optional: without it, or where its cell is empty, a row is the sender's;
   * a row naming another customer is rejected. Default: none (the customer column is required).
   */
  senderCustomer?: string;
}

export interface ParsedLine {
  sku: string;
  quantity: number;
  /** Minor units of the order's currency; 0 when the file gives no price. */
  unitPrice: number;
  /** Minor units off the whole line, when the file gives a discount. */
  discount?: number;
}

/** An order every row of which is valid: ready for intake. */
export interface ParsedOrder {
  /** `${customerCode}:${orderNo}`: the idempotency key of the order in stockbridge. */
  externalId: string;
  customerCode: string;
  /** The customer's name from the file's customer-name column (the first row of the order that has one). */
  customerName?: string;
  orderNo: string;
  currency: string;
  lines: ParsedLine[];
  /** The order's shipping in minor units, when a row of it gives one. */
  shipping?: number;
  /** The sales contract the order draws on, when a row of it names one. */
  contract?: string;
  /** The promotion codes its rows name, when any. */
  promotionCodes?: string[];
  /** 1-based sheet row numbers of the lines, in line order. */
  rows: number[];
}

/** An order that is not imported because one or more of its rows are invalid. */
export interface RejectedOrder {
  externalId: string;
  customerCode: string;
  orderNo: string;
  /** Every row of the order, including rows that only joined it by a missing key (see README). */
  rows: number[];
  /** The rows that are invalid themselves. */
  badRows: number[];
  reason: string;
}

export type RowStatus = 'accepted' | 'rejected' | 'pending';

/** One data row of the file as read, with what became of it. */
export interface ParsedRow {
  /** 1-based sheet row number (for CSV: the record number, as Excel would show it). */
  row: number;
  orderNo: string;
  customerCode: string;
  sku: string;
  /** Null when the cell is not a valid quantity (see `rawQuantity`). */
  quantity: number | null;
  /** Minor units; 0 when the file gives no price; null when the cell is not a valid price. */
  unitPrice: number | null;
  /** The row's currency (its own cell, else the default); the cell text when it is not a valid code. */
  currency: string;
  /** The quantity cell as text, for showing back what the customer wrote. */
  rawQuantity: string;
  /** The price cell as text. */
  rawUnitPrice: string;
  /** The `externalId` of the order the row is a line of; absent when order number or customer is missing. */
  externalId?: string;
  /** `pending` for the rows of valid orders: the caller decides after intake. */
  status: RowStatus;
  reason?: string;
}

export interface ParsedOrderFile {
  fileName: string;
  /** A problem with the whole file (unreadable, empty, missing headers, too many rows): no orders then. */
  error?: string;
  /** Valid orders, in the order they first appear in the file. */
  orders: ParsedOrder[];
  /** Orders rejected whole because a row of theirs is invalid, in order of first appearance. */
  rejectedOrders: RejectedOrder[];
  /** Every non-blank data row, in file order. */
  rows: ParsedRow[];
}

/** What intake made of one order, keyed by `externalId` when writing the result workbook. */
export interface OrderOutcome {
  accepted: boolean;
  reason?: string;
  /** The stockbridge order id, when accepted. */
  orderId?: number;
}
