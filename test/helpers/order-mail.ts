import ExcelJS from 'exceljs';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';

export interface OrderMail {
  from: string;
  to?: string;
  subject: string;
  messageId: string;
  text?: string;
  attachments?: { filename: string; content: Buffer; contentType?: string }[];
}

/** A raw RFC 5322 message as a customer's mail program would send it, for IMAP APPEND. */
export function composeMail(mail: OrderMail): Promise<Buffer> {
  return new MailComposer({
    from: mail.from,
    to: mail.to ?? 'orders@stockbridge.test',
    subject: mail.subject,
    messageId: mail.messageId,
    date: new Date(),
    text: mail.text ?? 'Please find our order attached.',
    attachments: mail.attachments ?? [],
  })
    .compile()
    .build();
}

/** An .xlsx order sheet (first row: headers), as exceljs writes it. */
export async function orderWorkbook(rows: unknown[][]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Orders');
  for (const r of rows) ws.addRow(r);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** The rows of a result workbook's `Result` sheet, as objects keyed by the header texts. */
export async function resultRows(content: Buffer): Promise<Record<string, unknown>[]> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(content as unknown as ArrayBuffer);
  const ws = wb.getWorksheet('Result');
  if (!ws) throw new Error('the result workbook has no Result sheet');
  const header = (ws.getRow(1).values as unknown[]).slice(1).map(String);
  const out: Record<string, unknown>[] = [];
  ws.eachRow((row, n) => {
    if (n === 1) return;
    const values = (row.values as unknown[]).slice(1);
    out.push(Object.fromEntries(header.map((h, i) => [h, values[i] ?? null])));
  });
  return out;
}
