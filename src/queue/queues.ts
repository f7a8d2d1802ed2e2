import { type JobsOptions, Queue } from 'bullmq';
import type { RedisConnection } from './redis.js';

/** Queue names; the Redis key prefix (`STOCKBRIDGE_QUEUE_PREFIX`) isolates installations sharing a Redis. */
export const QUEUE = {
  orders: 'orders',
  maintenance: 'maintenance',
  channels: 'channels',
  events: 'events',
} as const;

/** A job on the events queue: apply these stored webhook events (those stored together). */
export interface ApplyEventJob {
  eventIds: number[];
}

/** Most events in one job. */
const EVENTS_PER_JOB = 100;

/** The same events again (the relay's add, say) make no second job while the first exists. */
const eventJobId = (eventIds: readonly number[]) =>
  `events-${eventIds[0]}-${eventIds[eventIds.length - 1]}-${eventIds.length}`;

const eventJobOptions: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 500, jitter: 0.5 },
  removeOnComplete: true,
  // Gone once it has failed for good: the event relay queues the event again at its retry time.
  removeOnFail: true,
};

/** A job on the channels queue: pull one channel's orders now. */
export interface ChannelJob {
  channelId: number;
  /** Times this job was put off because the channel asked us to wait. */
  rateLimitDelays?: number;
  /** A `fulfil` job: the shipment to tell the channel about. */
  shipmentId?: number;
  /** A `cancel` job: the order we cancelled, to tell the channel about. */
  orderId?: number;
}

/** One fulfilment job per shipment at a time. */
const fulfilJobId = (shipmentId: number) => `fulfil-${shipmentId}`;

/** One pull job per channel at a time: a second add is ignored while the first still exists. */
const pullJobId = (channelId: number) => `pull-${channelId}`;

/** One push job per channel and debounce window. */
const pushJobId = (channelId: number, window: number) => `push-${channelId}-${window}`;

export interface ProcessOrderJob {
  orderId: number;
}

/** Job id for an order: BullMQ ignores a second add while the first job still exists. */
const orderJobId = (orderId: number) => `order-${orderId}`;

export const ORDER_JOB_ATTEMPTS = 8;

const orderJobOptions: JobsOptions = {
  attempts: ORDER_JOB_ATTEMPTS,
  backoff: { type: 'exponential', delay: 200, jitter: 0.5 },
  removeOnComplete: true,
  removeOnFail: true,
};

export interface Queues {
  orders: Queue<ProcessOrderJob>;
  maintenance: Queue;
  channels: Queue<ChannelJob>;
  events: Queue<ApplyEventJob>;
  /** Adds jobs that apply these stored events, up to 100 to a job. Throws when Redis cannot take them. */
  enqueueEvents(eventIds: readonly number[]): Promise<void>;
  /**
   * Queues a push of the channel's pending stock at the end of the current debounce window: every
   * request within one window is the same job, so a burst of changes makes one push.
   */
  enqueuePush(channelId: number, debounceMs: number): Promise<void>;
  /** Queues a pull of the channel, unless one is already waiting or running. */
  enqueuePull(channelId: number): Promise<void>;
  /** Queues telling the channel about a shipment, unless a job for it already waits or runs. */
  enqueueFulfilment(channelId: number, shipmentId: number): Promise<void>;
  /** Queues telling the channel about an order we cancelled (one job per order at a time). */
  enqueueCancellation(channelId: number, orderId: number): Promise<void>;
  /** Adds one processing job per order. Throws when Redis cannot take them. */
  enqueueOrders(orderIds: readonly number[]): Promise<void>;
  close(): Promise<void>;
}

export function createQueues(connection: RedisConnection, prefix: string): Queues {
  const orders = new Queue<ProcessOrderJob>(QUEUE.orders, { connection, prefix });
  const maintenance = new Queue(QUEUE.maintenance, { connection, prefix });
  const channels = new Queue<ChannelJob>(QUEUE.channels, { connection, prefix });
  const events = new Queue<ApplyEventJob>(QUEUE.events, { connection, prefix });
  channels.on('error', () => {});
  events.on('error', () => {});
  // Errors surface on the add() promise; this only keeps them from being unhandled events.
  orders.on('error', () => {});
  maintenance.on('error', () => {});
  return {
    orders,
    maintenance,
    channels,
    events,
    async enqueueEvents(eventIds) {
      if (eventIds.length === 0) return;
      const chunks: number[][] = [];
      for (let i = 0; i < eventIds.length; i += EVENTS_PER_JOB)
        chunks.push(eventIds.slice(i, i + EVENTS_PER_JOB));
      await events.addBulk(
        chunks.map((ids) => ({
          name: 'apply',
          data: { eventIds: ids },
          opts: { ...eventJobOptions, jobId: eventJobId(ids) },
        })),
      );
    },
    async enqueuePull(channelId) {
      await channels.add(
        'pull',
        { channelId },
        { jobId: pullJobId(channelId), removeOnComplete: true, removeOnFail: true, attempts: 1 },
      );
    },
    async enqueuePush(channelId, debounceMs) {
      const now = Date.now();
      const window = debounceMs > 0 ? Math.floor(now / debounceMs) : now;
      const delay = debounceMs > 0 ? (window + 1) * debounceMs - now : 0;
      await channels.add(
        'push',
        { channelId },
        {
          jobId: pushJobId(channelId, window),
          delay,
          removeOnComplete: true,
          removeOnFail: true,
          attempts: 6,
          backoff: { type: 'exponential', delay: 1000 },
        },
      );
    },
    async enqueueFulfilment(channelId, shipmentId) {
      await channels.add(
        'fulfil',
        { channelId, shipmentId },
        {
          jobId: fulfilJobId(shipmentId),
          removeOnComplete: true,
          removeOnFail: true,
          attempts: 8,
          backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
        },
      );
    },
    async enqueueCancellation(channelId, orderId) {
      await channels.add(
        'cancel',
        { channelId, orderId },
        {
          jobId: `cancel-${orderId}`,
          removeOnComplete: true,
          removeOnFail: true,
          attempts: 8,
          backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
        },
      );
    },
    async enqueueOrders(orderIds) {
      if (orderIds.length === 0) return;
      if (orderIds.length === 1) {
        const orderId = orderIds[0]!;
        await orders.add('process', { orderId }, { ...orderJobOptions, jobId: orderJobId(orderId) });
        return;
      }
      await orders.addBulk(
        orderIds.map((orderId) => ({
          name: 'process',
          data: { orderId },
          opts: { ...orderJobOptions, jobId: orderJobId(orderId) },
        })),
      );
    },
    async close() {
      await Promise.all([orders.close(), maintenance.close(), channels.close(), events.close()]);
    },
  };
}
