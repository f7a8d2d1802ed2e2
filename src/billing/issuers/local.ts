import type { InvoiceIssuer, IssueResult, RedResult } from './contract.js';

/**
 * The built-in issuer: our own document (the Excel file per invoice) is the invoice, so every
 * request is issued at once, without a platform number.
 */
export const localIssuer: InvoiceIssuer = {
  name: 'local',
  immediate: true,
  async issueBlue(request): Promise<IssueResult> {
    return { serial: request.serial, status: 'issued', platformNumber: null, message: null };
  },
  async queryBlue(serial): Promise<IssueResult> {
    return { serial, status: 'issued', platformNumber: null, message: null };
  },
  async requestRed(request): Promise<RedResult> {
    return {
      serial: request.serial,
      status: 'issued',
      confirmation: 'confirmed',
      platformNumber: null,
      message: null,
    };
  },
  async queryRed(serial): Promise<RedResult> {
    return { serial, status: 'issued', confirmation: 'confirmed', platformNumber: null, message: null };
  },
};

/** The issuers this build knows, by name. */
export const ISSUERS: ReadonlyMap<string, InvoiceIssuer> = new Map([[localIssuer.name, localIssuer]]);
