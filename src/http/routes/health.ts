import { z } from 'zod';
import { pendingMigrations } from '../../db/migrate.js';
import type { AppDeps } from '../env.js';
import { newRoutes, routeRegistrar } from '../openapi.js';

async function check(fn: () => Promise<unknown>): Promise<{ ok: boolean; error?: string }> {
  try {
    await fn();
    return { ok: true };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

const checkSchema = z.object({ ok: z.boolean(), error: z.string().optional().describe('why it failed') });

const readinessSchema = z
  .object({
    status: z.enum(['ready', 'not_ready']),
    checks: z.object({ database: checkSchema, migrations: checkSchema, redis: checkSchema }),
  })
  .meta({ id: 'Readiness' });

export function healthRoutes(deps: AppDeps) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Health', entity: 'health', db: deps.db });

  route(
    {
      method: 'get',
      path: '/healthz',
      access: 'public',
      operationId: 'getLiveness',
      summary: 'Liveness: the process answers',
      responses: { 200: { description: 'Alive', schema: z.object({ status: z.literal('ok') }) } },
    },
    (c) => c.json({ status: 'ok' as const }),
  );

  route(
    {
      method: 'get',
      path: '/readyz',
      access: 'public',
      operationId: 'getReadiness',
      summary: 'Readiness: the database answers, no migration is pending, Redis answers',
      responses: {
        200: { description: 'Ready', schema: readinessSchema },
        503: { description: 'Not ready; `checks` says what failed', schema: readinessSchema },
      },
    },
    async (c) => {
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
    },
  );

  return app;
}
