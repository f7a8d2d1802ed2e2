import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_LEASE_MS, leaseEvents, storeEvents } from '../../src/channels/event-store.js';
import { pendingEventsQuery } from '../../src/queue/relay.js';
import { createSqliteDatabase, createTestDatabase, type TestDatabase } from '../helpers/db.js';

const event = (deliveryId: string) => ({
  channel: 'shopify:1',
  deliveryId,
  topic: 'orders/create',
  kind: 'order.upsert' as const,
  externalId: `ext-${deliveryId}`,
  rawPayload: `{"id":"${deliveryId}"}`,
});

for (const kind of ['MariaDB', 'SQLite'] as const) {
  describe(`storeEvents (${kind})`, () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = kind === 'MariaDB' ? await createTestDatabase({ poolMax: 5 }) : await createSqliteDatabase();
    });
    afterAll(async () => {
      await database.drop();
    });

    const idOf = async (deliveryId: string) =>
      Number((await database.db('inbound_events').where({ delivery_id: deliveryId }).first('id')).id);

    it('answers every delivery of a group with its own event id, new or stored before', async () => {
      const first = await storeEvents(database.db, ['a', 'b', 'c'].map(event));
      expect(first.map((s) => s.applied)).toEqual([false, false, false]);
      expect(first.map((s) => s.eventId)).toEqual([await idOf('a'), await idOf('b'), await idOf('c')]);

      // A group with a re-delivery in the middle and the same delivery twice.
      await database
        .db('inbound_events')
        .where({ delivery_id: 'b' })
        .update({ processed_at: '2026-12-01 00:00:00' });
      const second = await storeEvents(database.db, ['d', 'b', 'e', 'e'].map(event));
      expect(second.map((s) => s.eventId)).toEqual([
        await idOf('d'),
        await idOf('b'),
        await idOf('e'),
        await idOf('e'),
      ]);
      expect(second.map((s) => s.applied)).toEqual([false, true, false, false]);
      expect(await database.db('inbound_events').count({ n: '*' })).toEqual([{ n: 5 }]);
    });

    it('leaves a stored event to its job for a lease before the relay may queue it again', async () => {
      const [stored] = await storeEvents(database.db, [event('lease')]);
      const pending = async (at: Date) =>
        (await pendingEventsQuery(database.db, at, 0, 100)).map((r: { id: number }) => Number(r.id));
      expect(await pending(new Date())).not.toContain(stored!.eventId);
      expect(await pending(new Date(Date.now() + EVENT_LEASE_MS + 1000))).toContain(stored!.eventId);
      // Its job could not be queued (Redis down): the relay may take it at once.
      await leaseEvents(database.db, [stored!.eventId], null);
      expect(await pending(new Date())).toContain(stored!.eventId);
    });
  });
}
