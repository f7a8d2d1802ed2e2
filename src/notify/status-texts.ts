import type { OrderStatus } from '../domain/order-status.js';
import type { LineState, StatusBackorder } from './status-view.js';

/** The languages of the status page (and of every customer text). */
export const STATUS_LANGUAGES = ['zh-CN', 'en'] as const;
export type StatusLanguage = (typeof STATUS_LANGUAGES)[number];

/** A language as written on an order or in `?lang=` (`zh`, `zh-CN`, `zh_Hans`, `en-GB`…), or null. */
export function statusLanguageOf(value: string | null | undefined): StatusLanguage | null {
  const v = value?.trim().toLowerCase().replace('_', '-');
  if (!v) return null;
  if (v === 'zh' || v.startsWith('zh-')) return 'zh-CN';
  if (v === 'en' || v.startsWith('en-')) return 'en';
  return null;
}

/** The first zh or en language a browser's Accept-Language names, or null. */
export function acceptedLanguage(header: string | undefined): StatusLanguage | null {
  for (const part of (header ?? '').split(',')) {
    const lang = statusLanguageOf(part.split(';')[0]);
    if (lang) return lang;
  }
  return null;
}

export interface StatusTexts {
  title: (orderNumber: string) => string;
  heading: string;
  orderNumber: string;
  placedAt: string;
  currentStatus: string;
  status: Record<OrderStatus, string>;
  /** One sentence under the status saying what it means for the customer. */
  statusHelp: Record<OrderStatus, string>;
  lines: string;
  product: string;
  ordered: string;
  shippedQty: string;
  lineState: Record<LineState, string>;
  state: string;
  timeline: string;
  shipments: string;
  noShipments: string;
  shipment: (n: number) => string;
  shippedAt: string;
  carrier: string;
  trackingNumber: string;
  track: string;
  noTracking: string;
  contents: string;
  backordered: string;
  backorderedHelp: string;
  waiting: string;
  backorderState: Record<StatusBackorder['state'], string>;
  otherLanguage: string;
  times: (zone: string) => string;
  notFoundTitle: string;
  notFound: string;
}

export const STATUS_TEXTS: Record<StatusLanguage, StatusTexts> = {
  en: {
    title: (n) => `Order ${n}: status`,
    heading: 'Your order',
    orderNumber: 'Order number',
    placedAt: 'Placed',
    currentStatus: 'Status',
    status: {
      received: 'Received',
      confirmed: 'Confirmed',
      backordered: 'Waiting for stock',
      on_hold: 'Being reviewed',
      rejected: 'Not accepted',
      partially_shipped: 'Partly shipped',
      shipped: 'Shipped',
      delivered: 'Delivered',
      completed: 'Completed',
      cancelled: 'Cancelled',
    },
    statusHelp: {
      received: 'We have your order and are checking it.',
      confirmed: 'Everything is in stock and set aside for you; it will be shipped soon.',
      backordered: 'Some items are waiting for stock; they are sent as soon as it arrives.',
      on_hold: 'Our staff are reviewing your order; we will be in touch if we need anything.',
      rejected: 'We could not accept this order. Please contact us.',
      partially_shipped: 'Part of your order is on its way; the rest follows.',
      shipped: 'Your order is on its way.',
      delivered: 'Your order has been delivered.',
      completed: 'Your order is complete.',
      cancelled: 'This order was cancelled.',
    },
    lines: 'Items',
    product: 'Product',
    ordered: 'Ordered',
    shippedQty: 'Shipped',
    state: 'State',
    lineState: {
      processing: 'Being processed',
      ready: 'Being prepared',
      backordered: 'Waiting for stock',
      partially_shipped: 'Partly shipped',
      shipped: 'Shipped',
      cancelled: 'Cancelled',
    },
    timeline: 'History',
    shipments: 'Shipments',
    noShipments: 'Nothing has been shipped yet.',
    shipment: (n) => `Shipment ${n}`,
    shippedAt: 'Shipped on',
    carrier: 'Carrier',
    trackingNumber: 'Tracking number',
    track: 'Track this parcel',
    noTracking: 'No tracking number',
    contents: 'Contents',
    backordered: 'Waiting for stock',
    backorderedHelp: 'These items are sent as soon as new stock arrives; you need not do anything.',
    waiting: 'Waiting',
    backorderState: {
      waiting_for_stock: 'Waiting for stock',
      partly_available: 'Partly available, the rest waits for stock',
    },
    otherLanguage: '中文',
    times: (zone) => `Times are in ${zone}.`,
    notFoundTitle: 'Page not found',
    notFound: 'This link is not valid (any more). Please use the latest link we sent you, or contact us.',
  },
  'zh-CN': {
    title: (n) => `订单 ${n} 的状态`,
    heading: '您的订单',
    orderNumber: '订单号',
    placedAt: '下单时间',
    currentStatus: '当前状态',
    status: {
      received: '已收到',
      confirmed: '已确认',
      backordered: '缺货待补',
      on_hold: '审核中',
      rejected: '未受理',
      partially_shipped: '部分发货',
      shipped: '已发货',
      delivered: '已送达',
      completed: '已完成',
      cancelled: '已取消',
    },
    statusHelp: {
      received: '我们已收到您的订单，正在核对。',
      confirmed: '所有商品均有库存并已为您预留，即将发货。',
      backordered: '部分商品正在等待补货，到货后立即发出。',
      on_hold: '工作人员正在审核您的订单，如有需要会与您联系。',
      rejected: '我们无法受理此订单，请与我们联系。',
      partially_shipped: '部分商品已发出，其余商品随后发出。',
      shipped: '您的订单已发出。',
      delivered: '您的订单已送达。',
      completed: '您的订单已完成。',
      cancelled: '此订单已取消。',
    },
    lines: '商品',
    product: '商品',
    ordered: '订购数量',
    shippedQty: '已发数量',
    state: '状态',
    lineState: {
      processing: '处理中',
      ready: '备货中',
      backordered: '缺货待补',
      partially_shipped: '部分发货',
      shipped: '已发货',
      cancelled: '已取消',
    },
    timeline: '订单记录',
    shipments: '发货',
    noShipments: '尚未发货。',
    shipment: (n) => `第 ${n} 个包裹`,
    shippedAt: '发货时间',
    carrier: '承运商',
    trackingNumber: '运单号',
    track: '查询物流',
    noTracking: '无运单号',
    contents: '包裹内容',
    backordered: '缺货待补',
    backorderedHelp: '以下商品到货后立即为您发出，您无需任何操作。',
    waiting: '待补数量',
    backorderState: {
      waiting_for_stock: '等待补货',
      partly_available: '部分有货，其余等待补货',
    },
    otherLanguage: 'English',
    times: (zone) => `时间按 ${zone} 显示。`,
    notFoundTitle: '页面不存在',
    notFound: '此链接无效或已失效。请使用我们最近发给您的链接，或与我们联系。',
  },
};
