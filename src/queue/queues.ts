import { type JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/** Queue names; the Redis key prefix (`STOCKBRIDGE_QUEUE_PREFIX`) isolates installations sharing a Redis. */
export const QUEUE = {
  orders: 'orders',
  maintenance: 'maintenance',
} as const;

export interface ProcessOrderJob {
  orderId: number;
}

/** Job id for an order: BullMQ ignores a second add while the first job still exists. */
export const orderJobId = (orderId: number) => `order-${orderId}`;

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
  /** Adds one processing job per order. Throws when Redis cannot take them. */
  enqueueOrders(orderIds: readonly number[]): Promise<void>;
  close(): Promise<void>;
}

export function createQueues(connection: Redis, prefix: string): Queues {
  const orders = new Queue<ProcessOrderJob>(QUEUE.orders, { connection, prefix });
  const maintenance = new Queue(QUEUE.maintenance, { connection, prefix });
  // Errors surface on the add() promise; this only keeps them from being unhandled events.
  orders.on('error', () => {});
  maintenance.on('error', () => {});
  return {
    orders,
    maintenance,
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
      await Promise.all([orders.close(), maintenance.close()]);
    },
  };
}
