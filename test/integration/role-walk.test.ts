import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTime } from '../../src/db/connection.js';
import { userWithToken } from '../helpers/auth.js';
import { createStack, jsonOrText, seedCatalog, type TestStack } from '../helpers/stack.js';

/**
 * Issue 18's role test: a `viewer` API token calls every operation the OpenAPI document lists, and
 * nothing in the database (nor in the queues) changes. Operations that need more than `read`
 * answer 403. It reads the document at run time, so every route declared with `route()` — today's
 * and those converted later — is walked without this file changing.
 */

let stack: TestStack;
let viewerToken: string;

// Plausible values for path parameters, by name, from the small dataset seeded below.
const PARAM_VALUES: Record<string, string> = {
  id: '1',
  code: 'SKU-1',
  sku: 'SKU-1',
  warehouse: 'WH1',
  zone: 'cn',
  class: 'std',
  channel: '1',
  channelId: '1',
  number: 'INV-1',
  ref: 'T-1',
  name: 'nightly',
  role: 'operations',
  medium: 'email',
  recipient: 'someone@example.com',
  token: 'not-a-status-token',
};

type Operation = {
  operationId: string;
  'x-stockbridge-access': string;
  requestBody?: { content: Record<string, { example?: unknown; schema?: { example?: unknown } }> };
  parameters?: {
    name: string;
    in: string;
    required?: boolean;
    example?: unknown;
    schema?: { example?: unknown };
  }[];
};

beforeAll(async () => {
  stack = await createStack();
  // The dataset: a warehouse, a SKU, a tax rate, a channel, and a service token (id 1, so the
  // viewer's own token is not the one `id: 1` names).
  await seedCatalog(stack, [{ code: 'WH1', priority: 1 }], ['SKU-1']);
  expect((await stack.api('PUT', '/api/tax-rates/cn/std', { rateBasisPoints: 1300 })).status).toBe(201);
  const now = dbTime();
  await stack.db('channels').insert({
    type: 'shopify',
    name: 'Walked shop',
    enabled: false,
    settings: '{}',
    secrets: '',
    created_at: now,
    updated_at: now,
  });
  expect((await stack.api('POST', '/api/tokens', { name: 'service', role: 'admin' })).status).toBe(201);
  const viewer = await userWithToken(stack, 'walker@example.com', 'viewer');
  viewerToken = viewer.token;
  // The viewer's own account operations (access `read`) may change the viewer's own sessions: the
  // walk starts with none, so "log out everywhere" has nothing to end.
  const out = await stack.api('POST', '/api/me/logout-everywhere', undefined, { token: viewerToken });
  expect(out.status).toBe(200);
  // The first use notes the token's last use; later uses within a minute write nothing, but a
  // slow walk could pass the minute, so that one column is left out of the comparison below.
  expect((await stack.api('GET', '/api/me', undefined, { token: viewerToken })).status).toBe(200);
});

afterAll(async () => {
  await stack?.close();
});

/** Every table's rows (in any order) hashed, one hash per table; and the queues' job counts. */
async function snapshot(): Promise<Record<string, string>> {
  const [tables] = (await stack.db.raw('SHOW TABLES')) as [Record<string, string>[]];
  const out: Record<string, string> = {};
  for (const t of tables) {
    const name = Object.values(t)[0]!;
    // Compared on its own in the test: a viewer's own-account operation that ends nothing
    // (log out everywhere with no session) is still recorded as the viewer's action.
    if (name === 'audit_log') continue;
    const rows = (await stack.db(name).select('*')) as Record<string, unknown>[];
    const lines = rows
      .map((r) => {
        // See beforeAll: a token's last use is bookkeeping written at most once a minute.
        if (name === 'api_tokens') delete r.last_used_at;
        return JSON.stringify(r);
      })
      .sort();
    out[name] = `${rows.length}:${createHash('sha256').update(lines.join('\n')).digest('hex')}`;
  }
  for (const [name, queue] of Object.entries(stack.queues)) {
    if (queue && typeof queue === 'object' && 'getJobCounts' in queue) {
      out[`queue:${name}`] = JSON.stringify(
        await (queue as { getJobCounts(): Promise<unknown> }).getJobCounts(),
      );
    }
  }
  return out;
}

function bodyFor(op: Operation): { type: string; body: string } | null {
  const content = op.requestBody?.content;
  if (!content) return null;
  const json = content['application/json'];
  if (json) {
    const example = json.example ?? json.schema?.example;
    return { type: 'application/json', body: JSON.stringify(example ?? {}) };
  }
  const type = Object.keys(content)[0]!;
  return { type, body: type === 'application/x-www-form-urlencoded' ? '_csrf=x' : 'x' };
}

describe('a viewer walks every operation of the API', () => {
  it('is refused every change (403) and changes nothing', async () => {
    const doc = (await (await stack.app.request('/api/openapi.json')).json()) as {
      paths: Record<string, Record<string, Operation>>;
    };
    const before = await snapshot();
    const lastAudit = Number((await stack.db('audit_log').max({ id: 'id' }))[0]?.id ?? 0);
    const readOps = new Set<string>();
    const walked: string[] = [];
    const wrong: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
        const url = path.replace(/\{([^}]+)\}/g, (_, name: string) =>
          encodeURIComponent(PARAM_VALUES[name] ?? '1'),
        );
        const query = new URLSearchParams();
        for (const p of op.parameters ?? []) {
          if (p.in === 'query' && p.required)
            query.set(p.name, String(p.example ?? p.schema?.example ?? '1'));
        }
        const body = bodyFor(op);
        const headers: Record<string, string> = { authorization: `Bearer ${viewerToken}` };
        if (body) headers['content-type'] = body.type;
        const res = await stack.app.request(`${url}${query.size ? `?${query}` : ''}`, {
          method: method.toUpperCase(),
          headers,
          ...(body ? { body: body.body } : {}),
        });
        const answer = await jsonOrText(res);
        walked.push(op.operationId);
        const access = op['x-stockbridge-access'];
        const mayUse = access === 'public' || access === 'read';
        if (access === 'read') readOps.add(op.operationId);
        if (!mayUse && res.status !== 403) {
          wrong.push(
            `${method.toUpperCase()} ${path} (${access}) answered ${res.status}: ${JSON.stringify(answer).slice(0, 200)}`,
          );
        }
        // A read is open to every role (a change of `read` access may still be refused by ownership:
        // revoking someone else's token).
        if (
          mayUse &&
          method === 'get' &&
          (res.status === 401 || res.status === 403) &&
          path.startsWith('/api/')
        ) {
          wrong.push(`${method.toUpperCase()} ${path} (${access}) refused the viewer: ${res.status}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    // Not a vacuous walk: the operations of this issue and the worked example are in it.
    expect(walked).toEqual(
      expect.arrayContaining([
        'createUser',
        'updateUser',
        'createToken',
        'revokeToken',
        'listAudit',
        'setTaxRate',
        'setChannelTax',
        'login',
      ]),
    );
    const after = await snapshot();
    expect(after).toEqual(before);
    // The audit log gained only the viewer's own-account operations (access `read`), nothing else.
    const added = await stack.db('audit_log').where('id', '>', lastAudit).select('operation', 'actor');
    for (const entry of added) {
      expect(entry.actor).toBe('walker@example.com');
      expect(readOps).toContain(entry.operation);
    }
  });
});
