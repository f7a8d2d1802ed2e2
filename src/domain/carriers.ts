/**
 * Carriers a shipment can name, with the company name the shops know them by and the page where a
 * parcel is tracked (`{number}` is replaced by the tracking number, URL-encoded). A carrier not in
 * the table is `other`: its name is kept as given, and its tracking URL comes from the shipment
 * (`trackingUrl`, which may itself hold `{number}`).
 */
export interface Carrier {
  code: string;
  /** The name sent to the channel as the tracking company (Shopify's `trackingInfo.company`). */
  company: string;
  /** Chinese name, for documents and staff. */
  nameZh: string;
  /** Tracking page; `{number}` is the tracking number. */
  trackingUrl: string;
  /** Other ways staff write the carrier (compared case-insensitively). */
  aliases: readonly string[];
}

export const CARRIERS: readonly Carrier[] = [
  {
    code: 'sf',
    company: 'SF Express',
    nameZh: '顺丰速运',
    trackingUrl: 'https://www.sf-express.com/chn/sc/waybill/waybill-detail/{number}',
    aliases: ['sf express', 'sf-express', 'sfexpress', '顺丰', '顺丰速运'],
  },
  {
    code: 'jd',
    company: 'JD Logistics',
    nameZh: '京东物流',
    trackingUrl: 'https://www.jdl.com/orderSearch/?waybillCodes={number}',
    aliases: ['jd logistics', 'jdl', 'jingdong', '京东', '京东物流', '京东快递'],
  },
  {
    code: 'zto',
    company: 'ZTO Express',
    nameZh: '中通快递',
    trackingUrl: 'https://www.zto.com/?num={number}',
    aliases: ['zto express', '中通', '中通快递'],
  },
  {
    code: 'yto',
    company: 'YTO Express',
    nameZh: '圆通速递',
    trackingUrl: 'https://www.yto.net.cn/gw/index/index.html?waybillNo={number}',
    aliases: ['yto express', '圆通', '圆通速递'],
  },
  {
    code: 'ems',
    company: 'China EMS',
    nameZh: '中国邮政 EMS',
    trackingUrl: 'https://www.ems.com.cn/queryList?mailNum={number}',
    aliases: ['china ems', 'china post ems', '邮政', '中国邮政', 'ems快递'],
  },
  {
    code: 'ups',
    company: 'UPS',
    nameZh: 'UPS',
    trackingUrl: 'https://www.ups.com/track?tracknum={number}',
    aliases: [],
  },
  {
    code: 'dhl',
    company: 'DHL Express',
    nameZh: 'DHL',
    trackingUrl: 'https://www.dhl.com/global-en/home/tracking/tracking-express.html?tracking-id={number}',
    aliases: ['dhl express'],
  },
  {
    code: 'fedex',
    company: 'FedEx',
    nameZh: '联邦快递',
    trackingUrl: 'https://www.fedex.com/fedextrack/?trknbr={number}',
    aliases: ['fed ex', '联邦快递'],
  },
];

/** The carrier a shipment names (by code, company or alias), or null for one not in the table. */
export function findCarrier(name: string | null | undefined): Carrier | null {
  if (!name) return null;
  const key = name.trim().toLowerCase();
  return (
    CARRIERS.find((c) => c.code === key || c.company.toLowerCase() === key || c.aliases.includes(key)) ?? null
  );
}

/** Fills `{number}` of a template with the tracking number (URL-encoded). */
export function fillTrackingTemplate(template: string, trackingNumber: string | null | undefined): string {
  return template.replaceAll('{number}', encodeURIComponent(trackingNumber ?? ''));
}

export interface ShipmentTracking {
  /** Our carrier code, or `other`; null when the shipment named none. */
  carrier: string | null;
  /** The company name for the channel (the carrier as given, for `other`). */
  company: string | null;
  number: string | null;
  url: string | null;
}

/**
 * The tracking a shipment carries: the carrier from the table (its URL unless the shipment gave
 * one), or `other` with the name and URL template the shipment gave. A tracking URL is only made
 * when there is a tracking number (or the shipment's own URL holds no `{number}`).
 */
export function shipmentTracking(input: {
  carrier?: string | null | undefined;
  trackingNumber?: string | null | undefined;
  trackingUrl?: string | null | undefined;
}): ShipmentTracking {
  const number = input.trackingNumber?.trim() || null;
  const known = findCarrier(input.carrier);
  const given = input.trackingUrl?.trim() || null;
  const template = given ?? known?.trackingUrl ?? null;
  const url =
    template === null
      ? null
      : template.includes('{number}')
        ? number
          ? fillTrackingTemplate(template, number)
          : null
        : template;
  if (known) return { carrier: known.code, company: known.company, number, url };
  const name = input.carrier?.trim() || null;
  return { carrier: name ? 'other' : null, company: name, number, url };
}
