import type { Logger } from 'pino';
import { SecretBoxError } from '../../channels/secret-box.js';
import type { Db } from '../../db/connection.js';
import type { NotificationSender, OutgoingNotification, SendOutcome } from '../contract.js';
import { type AliyunSecrets, type AliyunSettings, aliyunGateway } from './aliyun-gateway.js';
import type { SmsGatewayIo } from './gateway-contract.js';
import { activeGateway, type SmsGateway } from './gateway-store.js';
import { type GenericSecrets, type GenericSettings, genericGateway } from './generic-gateway.js';
import { nextHour, releaseHourlySlot, takeHourlySlot } from './hourly-cap.js';
import { parseE164 } from './phone-number.js';
import { quietUntil } from './quiet-hours.js';

export interface SmsSenderOptions {
  db: Db;
  /** STOCKBRIDGE_SECRET_KEY: opens the gateways' sealed secrets. */
  secretKey: Buffer;
  /** Milliseconds a gateway request may take. Default 10 000. */
  timeoutMs?: number;
  /** Wait before retrying when no gateway is enabled. Default 1 hour. */
  noGatewayRetryMs?: number;
  /**
   * The business time zone (`STOCKBRIDGE_TIME_ZONE`): quiet hours of a recipient whose zone is
   * unknown, when the gateway names none of its own. Default UTC.
   */
  businessTimeZone?: string;
  /** The clock. Default: the real one. */
  now?: () => Date;
  /** HTTP. Default: the global fetch. */
  fetch?: typeof fetch;
  log?: Logger;
}

/**
 * Scalar data values as template parameters (Aliyun's TemplateParam, `{{params.x}}`): strings
 * and numbers as text; nested objects, arrays and nulls are left out.
 */
export function templateParams(data: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
  }
  return out;
}

/**
 * The `sms` medium: checks the number (E.164), keeps to quiet hours in the recipient's time zone
 * and to the per-number hourly cap, then sends through the enabled gateway (the lowest id).
 */
export class SmsSender implements NotificationSender {
  readonly medium = 'sms' as const;
  private readonly now: () => Date;
  private readonly io: SmsGatewayIo;

  constructor(private readonly o: SmsSenderOptions) {
    this.now = o.now ?? (() => new Date());
    this.io = { fetch: o.fetch ?? ((...a) => fetch(...a)), now: this.now, timeoutMs: o.timeoutMs ?? 10_000 };
  }

  async send(n: OutgoingNotification): Promise<SendOutcome> {
    const checked = parseE164(n.recipient);
    if (!checked.ok) return { state: 'suppressed', reason: checked.reason };
    let gateway: SmsGateway | null;
    try {
      gateway = await activeGateway(this.o.db, this.o.secretKey);
    } catch (err) {
      if (!(err instanceof SecretBoxError)) throw err;
      return {
        state: 'failed',
        permanent: false,
        answer: `the SMS gateway's secrets cannot be opened: ${err.message}`,
      };
    }
    if (!gateway)
      return {
        state: 'failed',
        permanent: false,
        answer: 'no SMS gateway is enabled',
        retryAt: new Date(this.now().getTime() + (this.o.noGatewayRetryMs ?? 3_600_000)),
      };
    const now = this.now();
    if (gateway.quietHours) {
      const zone = n.timeZone ?? gateway.defaultTimeZone ?? this.o.businessTimeZone ?? 'UTC';
      const until = quietUntil(now, gateway.quietHours, zone);
      if (until)
        return {
          state: 'deferred',
          until,
          reason: `quiet hours ${gateway.quietHours.start}–${gateway.quietHours.end} in ${zone}`,
        };
    }
    if (gateway.hourlyCap !== null) {
      const took = await takeHourlySlot(this.o.db, checked.number.e164, now, gateway.hourlyCap);
      if (!took)
        return {
          state: 'deferred',
          until: nextHour(now),
          reason: `hourly cap of ${gateway.hourlyCap} SMS per number reached`,
        };
    }
    const message = {
      number: checked.number,
      event: n.event,
      text: n.text,
      params: templateParams(n.data),
      messageId: n.messageId,
    };
    let outcome: SendOutcome;
    try {
      outcome =
        gateway.kind === 'aliyun'
          ? await aliyunGateway.send(
              message,
              {
                settings: gateway.settings as AliyunSettings,
                secrets: gateway.secrets as AliyunSecrets,
                templateCodes: gateway.templateCodes,
              },
              this.io,
            )
          : await genericGateway.send(
              message,
              {
                settings: gateway.settings as GenericSettings,
                secrets: gateway.secrets as GenericSecrets,
                templateCodes: {},
              },
              this.io,
            );
    } catch (err) {
      outcome = { state: 'failed', permanent: false, answer: `gateway error: ${(err as Error).name}` };
    }
    // Nothing reached the phone: the slot is given back.
    if (gateway.hourlyCap !== null && outcome.state !== 'sent')
      await releaseHourlySlot(this.o.db, checked.number.e164, now);
    this.o.log?.debug({ notification: n.id, gateway: gateway.id, state: outcome.state }, 'sms attempt');
    return outcome;
  }
}
