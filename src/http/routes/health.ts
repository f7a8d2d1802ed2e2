import { Hono } from 'hono';
import { pendingMigrations } from '../../db/migrate.js';
import type { AppDeps, AppEnv } from '../env.js';

async function check(fn: () => Promise<unknown>): Promise<{ ok: boolean; error?: string }> {
  try {
    await fn();
    return { ok: true };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

export function healthRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const [database, migrations, redis] = await Promise.all([
      check(() => deps.db.raw('select 1')),
      check(async () => {
        const pending = await pendingMigrations(deps.db);
        if (pending.length) throw new Error(`pending migrations: ${pending.join(', ')}`);
      }),
      check(deps.checkRedis),
    ]);
    const ready = database.ok && migrations.ok && redis.ok;
    return c.json(
      { status: ready ? 'ready' : 'not_ready', checks: { database, migrations, redis } },
      ready ? 200 : 503,
    );
  });
  return app;
}
