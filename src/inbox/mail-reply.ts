import { createHash } from 'node:crypto';
import type { ImportSummary } from './import-file.js';

/** The languages a reply is written in; null: the customer has none on record, so both. */
export type ReplyLanguage = 'zh-CN' | 'en' | null;

/** `Re: <subject>`, without piling up `Re: Re:` (nor `回复：`). */
export function replySubject(subject: string | null | undefined): string {
  const s = (subject ?? '').trim();
  if (s === '') return 'Re: (no subject)';
  return /^(re|aw|回复|答复)\s*[:：]/i.test(s) ? s : `Re: ${s}`;
}

/**
 * The reply's Message-ID: derived from the inbox and the message it answers (its own Message-ID, or
 * its UIDVALIDITY and UID), so that sending it again after a crash sends the same message, which
 * the customer's mail program shows once.
 */
export function replyMessageId(
  inboxId: number,
  answered: { messageId: string | null; uidValidity: number; uid: number },
  fromAddress: string,
): string {
  const key = answered.messageId ?? `${answered.uidValidity}:${answered.uid}`;
  const digest = createHash('sha256').update(`${inboxId}\u0000${key}`).digest('hex').slice(0, 32);
  const domain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(fromAddress)?.[1] ?? 'stockbridge.invalid';
  return `<order-reply.${inboxId}.${digest}@${domain}>`;
}

/** `References` of a reply: the message's own references, then the message itself (RFC 5322 3.6.4). */
export function replyReferences(
  references: string | string[] | undefined,
  messageId: string | null,
): string[] {
  const list = Array.isArray(references) ? references : references ? references.split(/\s+/) : [];
  const out = list.filter((r) => r.trim() !== '');
  if (messageId && !out.includes(messageId)) out.push(messageId);
  return out.slice(-20);
}

interface Texts {
  greeting: string;
  imported: (files: readonly ImportSummary[]) => string;
  noAttachment: (names: readonly string[]) => string;
  tooLarge: (megabytes: string, limit: string) => string;
  closing: string;
}

const EN: Texts = {
  greeting: 'Hello,',
  imported: (files) =>
    [
      'Thank you for your order. We have read the attached order sheet' +
        `${files.length > 1 ? 's' : ''}; the result is attached, one workbook per sheet, with every row ` +
        'and whether it was accepted (and if not, why).',
      '',
      ...files.map((f) =>
        f.error
          ? `- ${f.fileName}: the file could not be read: ${f.error}`
          : `- ${f.fileName}: ${f.rows} rows, ${f.ordersAccepted} order(s) accepted, ${f.ordersRejected} rejected` +
            (f.ordersAlreadyImported ? ` (${f.ordersAlreadyImported} had been imported before)` : ''),
      ),
      '',
      'Rejected orders were not stored: correct them and send them again.',
    ].join('\n'),
  noAttachment: (names) =>
    [
      'Thank you for your message. We could not find an order sheet in it: we read Excel workbooks ' +
        '(.xlsx) and CSV files (.csv, UTF-8 or GB18030) attached to the e-mail.',
      ...(names.length > 0 ? ['', `Attached were: ${names.join(', ')}.`] : []),
      '',
      'Please send your order again with the sheet attached. Nothing was ordered from this message.',
    ].join('\n'),
  tooLarge: (mb, limit) =>
    `Thank you for your message. At ${mb} MB it is larger than the ${limit} MB we read, so its attachments ` +
    'were not looked at and nothing was ordered. Please send the order sheet on its own, or split it.',
  closing: 'Kind regards,\nstockbridge (an automatic reply)',
};

const ZH: Texts = {
  greeting: '您好：',
  imported: (files) =>
    [
      '感谢您的订单。我们已读取附件中的订货表，处理结果见附件（每个订货表一个工作簿），其中列出每一行是否已导入以及未导入的原因。',
      '',
      ...files.map((f) =>
        f.error
          ? `- ${f.fileName}：无法读取该文件：${f.error}`
          : `- ${f.fileName}：共 ${f.rows} 行，已导入 ${f.ordersAccepted} 个订单，拒绝 ${f.ordersRejected} 个` +
            (f.ordersAlreadyImported ? `（其中 ${f.ordersAlreadyImported} 个此前已导入）` : ''),
      ),
      '',
      '被拒绝的订单未保存：请修改后重新发送。',
    ].join('\n'),
  noAttachment: (names) =>
    [
      '感谢您的来信。邮件中没有找到订货表：我们读取邮件附件中的 Excel 工作簿（.xlsx）和 CSV 文件（.csv，UTF-8 或 GB18030 编码）。',
      ...(names.length > 0 ? ['', `邮件附件为：${names.join('、')}。`] : []),
      '',
      '请附上订货表重新发送。此邮件未生成任何订单。',
    ].join('\n'),
  tooLarge: (mb, limit) =>
    `感谢您的来信。该邮件大小为 ${mb} MB，超过我们读取的上限 ${limit} MB，因此未读取附件，也未生成任何订单。请单独发送订货表，或将其拆分后发送。`,
  closing: '此致\nstockbridge（自动回复）',
};

function compose(language: ReplyLanguage, body: (t: Texts) => string): string {
  const one = (t: Texts) => `${t.greeting}\n\n${body(t)}\n\n${t.closing}\n`;
  if (language === 'zh-CN') return one(ZH);
  if (language === 'en') return one(EN);
  return `${one(ZH)}\n----------------------------------------\n\n${one(EN)}`;
}

/** The text of the reply to an order sheet that was read (whatever became of its rows). */
export const importedText = (language: ReplyLanguage, files: readonly ImportSummary[]) =>
  compose(language, (t) => t.imported(files));

/** The text of the reply to a message without an .xlsx or .csv attachment. */
export const noAttachmentText = (language: ReplyLanguage, attachmentNames: readonly string[]) =>
  compose(language, (t) => t.noAttachment(attachmentNames));

const megabytes = (bytes: number) => (bytes / (1024 * 1024)).toFixed(1);

/** The text of the reply to a message larger than the poller downloads. */
export const tooLargeText = (language: ReplyLanguage, bytes: number, limitBytes: number) =>
  compose(language, (t) => t.tooLarge(megabytes(bytes), megabytes(limitBytes)));
