import type { Conn } from '../../db/connection.js';

export const SMS_RECIPIENT_HOURS = 'sms_recipient_hours';

/** The UTC hour an instant falls in, as stored: 'YYYY-MM-DD HH:00'. */
export const hourKey = (d: Date) => `${d.toISOString().slice(0, 13).replace('T', ' ')}:00`;

/** The start of the next UTC hour. */
export const nextHour = (d: Date) => new Date(Math.floor(d.getTime() / 3_600_000) * 3_600_000 + 3_600_000);

/**
 * Takes one SMS of a number's hourly allowance: creates the hour's counter row if missing (one
 * statement, which also locks it), then a guarded `UPDATE … WHERE sent < cap`. True when a slot
 * was taken; false when the cap is reached. Concurrent senders queue on the row lock, so two can
 * never take the last slot.
 */
export async function takeHourlySlot(db: Conn, phone: string, at: Date, cap: number): Promise<boolean> {
  const hour = hourKey(at);
  return db.transaction(async (tx) => {
    await tx(SMS_RECIPIENT_HOURS)
      .insert({ phone, hour, sent: 0 })
      .onConflict(['phone', 'hour'])
      .merge(['phone']);
    const n = await tx(SMS_RECIPIENT_HOURS)
      .where({ phone, hour })
      .andWhere('sent', '<', cap)
      .update({ sent: tx.raw('sent + 1') });
    return Number(n) === 1;
  });
}

/** Gives a slot back (the send failed, so nothing reached the phone). */
export async function releaseHourlySlot(db: Conn, phone: string, at: Date): Promise<void> {
  await db(SMS_RECIPIENT_HOURS)
    .where({ phone, hour: hourKey(at) })
    .andWhere('sent', '>', 0)
    .update({ sent: db.raw('sent - 1') });
}
