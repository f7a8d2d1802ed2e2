export type { SmsGatewayConnector, SmsMessage } from './gateway-contract.js';
export { SmsSender, type SmsSenderOptions } from './sms-sender.js';
