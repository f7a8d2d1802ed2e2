import type { NotificationLanguage } from './contract.js';
import type { NotificationEvent } from './events.js';

/** The built-in subject and opening sentence of each event, in both languages. */
export const BUILTIN: Record<
  NotificationEvent,
  Record<NotificationLanguage, { subject: string; intro: string }>
> = {
  'order.received': {
    en: {
      subject: 'We received your order {{order.externalId}}',
      intro: 'Thank you: we have received your order {{order.externalId}} and are processing it.',
    },
    'zh-CN': {
      subject: '我们已收到您的订单 {{order.externalId}}',
      intro: '感谢您的订购：我们已收到您的订单 {{order.externalId}}，正在处理中。',
    },
  },
  'order.confirmed': {
    en: {
      subject: 'Order {{order.externalId}} confirmed',
      intro: 'Your order {{order.externalId}} is confirmed: every item is reserved for you.',
    },
    'zh-CN': {
      subject: '订单 {{order.externalId}} 已确认',
      intro: '您的订单 {{order.externalId}} 已确认，所有商品均已为您预留。',
    },
  },
  'order.backordered': {
    en: {
      subject: 'Order {{order.externalId}}: some items are awaiting stock',
      intro:
        'Part of your order {{order.externalId}} is waiting for stock; we ship it as soon as it arrives.',
    },
    'zh-CN': {
      subject: '订单 {{order.externalId}}：部分商品缺货待补',
      intro: '您的订单 {{order.externalId}} 中部分商品暂时缺货，到货后我们将尽快为您发出。',
    },
  },
  'order.partially_shipped': {
    en: {
      subject: 'Order {{order.externalId}} partly shipped',
      intro: 'Part of your order {{order.externalId}} has shipped.',
    },
    'zh-CN': {
      subject: '订单 {{order.externalId}} 已部分发货',
      intro: '您的订单 {{order.externalId}} 已部分发货。',
    },
  },
  'order.shipped': {
    en: {
      subject: 'Order {{order.externalId}} shipped',
      intro: 'Your order {{order.externalId}} has shipped.',
    },
    'zh-CN': { subject: '订单 {{order.externalId}} 已发货', intro: '您的订单 {{order.externalId}} 已发货。' },
  },
  'order.delivered': {
    en: {
      subject: 'Order {{order.externalId}} delivered',
      intro: 'Your order {{order.externalId}} has been delivered.',
    },
    'zh-CN': { subject: '订单 {{order.externalId}} 已送达', intro: '您的订单 {{order.externalId}} 已送达。' },
  },
  'order.cancelled': {
    en: {
      subject: 'Order {{order.externalId}} cancelled',
      intro: 'Your order {{order.externalId}} has been cancelled.',
    },
    'zh-CN': { subject: '订单 {{order.externalId}} 已取消', intro: '您的订单 {{order.externalId}} 已取消。' },
  },
  'order.held': {
    en: {
      subject: 'Order {{order.externalId}} ({{order.channel}}) is on hold: {{order.holdReason}}',
      intro:
        'Order {{order.externalId}} from {{order.channel}} needs a person: it is on hold ({{order.holdReason}}).',
    },
    'zh-CN': {
      subject: '订单 {{order.externalId}}（{{order.channel}}）已暂停：{{order.holdReason}}',
      intro:
        '来自 {{order.channel}} 的订单 {{order.externalId}} 需要人工处理：已暂停（{{order.holdReason}}）。',
    },
  },
  'order.credit_hold': {
    en: {
      subject: 'Credit hold: order {{order.externalId}} ({{order.holdReason}})',
      intro: 'Credit control holds order {{order.externalId}} of {{customer.name}}: {{order.holdReason}}.',
    },
    'zh-CN': {
      subject: '信用控制暂停：订单 {{order.externalId}}（{{order.holdReason}}）',
      intro: '客户 {{customer.name}} 的订单 {{order.externalId}} 因信用控制被暂停：{{order.holdReason}}。',
    },
  },
  'alert.low_stock': {
    en: {
      subject: 'Low stock: {{alert.sku}}',
      intro:
        'Low stock: {{alert.sku}} {{alert.name}} in {{alert.warehouse}} has {{alert.available}} available (reorder point {{alert.reorderPoint}}).',
    },
    'zh-CN': {
      subject: '库存不足：{{alert.sku}}',
      intro:
        '库存不足：{{alert.warehouse}} 的 {{alert.sku}} {{alert.name}} 可用数量为 {{alert.available}}（再订货点 {{alert.reorderPoint}}）。',
    },
  },
  'job.failed': {
    en: {
      subject: 'Scheduled job {{job.name}} failed ({{job.period}})',
      intro:
        'The scheduled job {{job.name}} for {{job.period}} failed after {{job.attempts}} attempts: {{job.error}}',
    },
    'zh-CN': {
      subject: '定时任务 {{job.name}} 执行失败（{{job.period}}）',
      intro: '定时任务 {{job.name}}（{{job.period}}）在 {{job.attempts}} 次尝试后失败：{{job.error}}',
    },
  },
  'reconciliation.finding': {
    en: {
      subject: 'Reconciliation {{finding.period}}: {{finding.kind}}',
      intro:
        'Reconciliation of {{finding.period}} found ({{finding.severity}}, {{finding.source}}): {{finding.message}}',
    },
    'zh-CN': {
      subject: '对账 {{finding.period}}：{{finding.kind}}',
      intro:
        '{{finding.period}} 的对账发现问题（{{finding.severity}}，{{finding.source}}）：{{finding.message}}',
    },
  },
  'channel.failing': {
    en: {
      subject: 'Channel {{channel.name}} is failing',
      intro:
        'Channel {{channel.name}} has been failing since {{channel.since}}: {{channel.reason}}. Pulls and pushes are stopped until it works again.',
    },
    'zh-CN': {
      subject: '销售渠道 {{channel.name}} 连接失败',
      intro:
        '销售渠道 {{channel.name}} 自 {{channel.since}} 起连接失败：{{channel.reason}}。恢复前将暂停拉取订单和推送库存。',
    },
  },
  'document.invoice': {
    en: {
      subject: 'Invoice {{document.number}}',
      intro:
        'Please find attached invoice {{document.number}} of {{document.issueDate}}, total {{document.total}}, due {{document.dueDate}}.',
    },
    'zh-CN': {
      subject: '发票 {{document.number}}',
      intro:
        '附件为 {{document.issueDate}} 开具的发票 {{document.number}}，价税合计 {{document.total}}，到期日 {{document.dueDate}}。',
    },
  },
  'document.credit_note': {
    en: {
      subject: 'Credit note {{document.number}}',
      intro:
        'Please find attached credit note {{document.number}} of {{document.issueDate}}, total {{document.total}}.',
    },
    'zh-CN': {
      subject: '红字发票 {{document.number}}',
      intro:
        '附件为 {{document.issueDate}} 开具的红字发票（贷项通知单）{{document.number}}，金额 {{document.total}}。',
    },
  },
  'document.statement': {
    en: {
      subject: 'Statement {{document.period}}',
      intro:
        'Please find attached your statement for {{document.period}}. Tell us if anything in it does not match your records.',
    },
    'zh-CN': {
      subject: '对账单 {{document.period}}',
      intro: '附件为您 {{document.period}} 的对账单。如有不符，请与我们联系。',
    },
  },
};

/** The words of the layout around the opening sentence. */
export const LABELS: Record<NotificationLanguage, Record<string, string>> = {
  en: {
    greeting: 'Hello {{recipientName}},',
    greetingAnon: 'Hello,',
    items: 'Items',
    sku: 'SKU',
    item: 'Item',
    quantity: 'Quantity',
    awaiting: 'awaiting stock',
    shipped: 'shipped',
    shipments: 'Shipments',
    track: 'Track the parcel',
    statusLink: 'Follow your order',
    total: 'Total',
    footer: 'This message was sent automatically by stockbridge.',
  },
  'zh-CN': {
    greeting: '{{recipientName}}，您好：',
    greetingAnon: '您好：',
    items: '商品',
    sku: '货号',
    item: '商品',
    quantity: '数量',
    awaiting: '缺货待补',
    shipped: '已发货',
    shipments: '发货信息',
    track: '查询物流',
    statusLink: '查看订单状态',
    total: '合计',
    footer: '本邮件由 stockbridge 自动发送。',
  },
};

/** The text layout; `{{intro}}` is the event's rendered sentence, `labels` the language's words. */
export const TEXT_LAYOUT = `{{#recipientName}}{{labels.greeting}}{{/recipientName}}{{^recipientName}}{{labels.greetingAnon}}{{/recipientName}}

{{intro}}
{{#lines.length}}
{{labels.items}}:
{{#lines}}- {{sku}} {{name}} × {{ordered}}{{#shipped}} ({{labels.shipped}} {{shipped}}){{/shipped}}{{#backordered}} ({{labels.awaiting}} {{backordered}}){{/backordered}}
{{/lines}}{{#order.total}}{{labels.total}}: {{order.total}}
{{/order.total}}{{/lines.length}}{{#shipments.length}}
{{labels.shipments}}:
{{#shipments}}- {{carrier}} {{trackingNumber}}{{#trackingUrl}} {{labels.track}}: {{trackingUrl}}{{/trackingUrl}}
{{/shipments}}{{/shipments.length}}{{#statusLink}}
{{labels.statusLink}}: {{statusLink}}
{{/statusLink}}
--
{{labels.footer}}
`;

export const HTML_LAYOUT = `<!doctype html>
<html lang="{{language}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{{subject}}</title></head>
<body style="font-family:sans-serif;max-width:640px;margin:auto;color:#222">
<p>{{#recipientName}}{{labels.greeting}}{{/recipientName}}{{^recipientName}}{{labels.greetingAnon}}{{/recipientName}}</p>
<p>{{intro}}</p>
{{#lines.length}}<table style="border-collapse:collapse" cellpadding="4">
<tr><th align="left">{{labels.sku}}</th><th align="left">{{labels.item}}</th><th align="right">{{labels.quantity}}</th><th></th></tr>
{{#lines}}<tr><td>{{sku}}</td><td>{{name}}</td><td align="right">{{ordered}}</td><td>{{#shipped}}{{labels.shipped}} {{shipped}} {{/shipped}}{{#backordered}}{{labels.awaiting}} {{backordered}}{{/backordered}}</td></tr>
{{/lines}}</table>
{{#order.total}}<p>{{labels.total}}: {{order.total}}</p>{{/order.total}}{{/lines.length}}
{{#shipments.length}}<h3>{{labels.shipments}}</h3><ul>
{{#shipments}}<li>{{carrier}} {{trackingNumber}}{{#trackingUrl}} <a href="{{trackingUrl}}">{{labels.track}}</a>{{/trackingUrl}}</li>
{{/shipments}}</ul>{{/shipments.length}}
{{#statusLink}}<p><a href="{{statusLink}}">{{labels.statusLink}}</a></p>{{/statusLink}}
<p style="color:#888;font-size:small">{{labels.footer}}</p>
</body></html>
`;
