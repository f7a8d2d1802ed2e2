import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { createApp } from '../../src/http/app.js';
import { QUEUE_BOARD_PATH } from '../../src/http/queue-board.js';
import { producerConnection } from '../../src/queue/redis.js';
import { TEST_REDIS_URL } from '../helpers/db.js';
import { ADMIN_TOKEN, createStack, silentLog, type TestStack } from '../helpers/stack.js';

/**
 * Issue 18: the OpenAPI document describes every route the daemon mounts, each operation with its
 * request and response schemas, and the schemas it documents accept the README's examples.
 */

let s: TestStack;
let doc: any;

/** The app with every optional part given (scheduled jobs, the queue dashboard), as the daemon builds it. */
let app: ReturnType<typeof createApp>;
const redis = producerConnection(TEST_REDIS_URL);

beforeAll(async () => {
  s = await createStack();
  app = createApp({
    db: s.db,
    log: silentLog,
    adminToken: ADMIN_TOKEN,
    enqueueOrders: async () => {},
    checkRedis: async () => {},
    channels: s.channels,
    secretKey: s.secretKey,
    queues: [s.queues.orders, s.queues.maintenance],
    scheduledJobs: {
      jobs: [],
      timeZone: 'Asia/Shanghai',
      outputRoot: mkdtempSync(path.join(tmpdir(), 'sb-openapi-')),
      queue: s.queues.maintenance,
    },
    statusPage: {
      secretKey: s.secretKey,
      publicUrl: 'https://stockbridge.example.com',
      redis,
      prefix: s.prefix,
    },
  });
  const res = await app.request('/api/openapi.json');
  expect(res.status).toBe(200);
  doc = await res.json();
});

afterAll(async () => {
  redis.disconnect();
  await s?.close();
});

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
const toOpenApi = (path: string) => path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, '{$1}');

interface Operation {
  method: string;
  path: string;
  op: any;
}

function operations(): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
    for (const method of METHODS) if (item[method]) out.push({ method, path, op: item[method] });
  }
  return out;
}

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 with the two ways to authenticate', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['bearer', 'session']);
  });

  it('has every route the app mounts (the queue dashboard aside)', () => {
    const documented = new Set(operations().map((o) => `${o.method.toUpperCase()} ${o.path}`));
    const mounted = new Set<string>();
    for (const r of app.routes) {
      if (r.method === 'ALL' || r.path.includes('*')) continue; // middleware
      // Bull Board's own UI and API, documented in the README as a whole.
      if (r.path === QUEUE_BOARD_PATH || r.path.startsWith(`${QUEUE_BOARD_PATH}/`)) continue;
      if (r.method === 'HEAD' || r.method === 'OPTIONS') continue;
      mounted.add(`${r.method} ${toOpenApi(r.path)}`);
    }
    const missing = [...mounted].filter((m) => !documented.has(m)).sort();
    expect(missing).toEqual([]);
    // And nothing is documented that is not served.
    const ghost = [...documented].filter((d) => !mounted.has(d)).sort();
    expect(ghost).toEqual([]);
    expect(mounted.size).toBeGreaterThan(150);
  });

  it('gives each operation an id, its access, its parameters, request body and answers with schemas', () => {
    const ids = new Set<string>();
    const problems: string[] = [];
    for (const { method, path, op } of operations()) {
      const at = `${method.toUpperCase()} ${path}`;
      if (!op.operationId) problems.push(`${at}: no operationId`);
      else if (ids.has(op.operationId)) problems.push(`${at}: operationId ${op.operationId} used twice`);
      ids.add(op.operationId);
      if (!op.summary) problems.push(`${at}: no summary`);
      if (!op['x-stockbridge-access']) problems.push(`${at}: no declared access`);
      const pathParams = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const declared = new Set(
        (op.parameters ?? []).filter((p: any) => p.in === 'path').map((p: any) => p.name),
      );
      for (const p of pathParams)
        if (!declared.has(p)) problems.push(`${at}: path parameter ${p} undocumented`);
      for (const p of op.parameters ?? [])
        if (!p.schema) problems.push(`${at}: parameter ${p.name} has no schema`);
      if (op.requestBody) {
        for (const [type, media] of Object.entries(op.requestBody.content ?? {})) {
          if (!(media as any).schema) problems.push(`${at}: request body ${type} has no schema`);
        }
      }
      const statuses = Object.keys(op.responses ?? {});
      if (!statuses.some((st) => st.startsWith('2') || st.startsWith('3')))
        problems.push(`${at}: no success answer documented`);
      for (const [status, response] of Object.entries(op.responses ?? {})) {
        for (const [type, media] of Object.entries((response as any).content ?? {})) {
          if (!(media as any).schema) problems.push(`${at}: answer ${status} ${type} has no schema`);
        }
      }
      if (op['x-stockbridge-access'] !== 'public') {
        for (const st of ['401', '403']) if (!op.responses[st]) problems.push(`${at}: ${st} not documented`);
      }
    }
    expect(problems).toEqual([]);
  });
});

// ---- The README's examples -------------------------------------------------------------------

interface Example {
  line: number;
  method: string;
  path: string;
  query: Record<string, string>;
  body: string | null;
  multipart: boolean;
}

/** Splits a shell command line into words (single and double quotes, backslash escapes). */
function shellWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "'") {
      const end = text.indexOf("'", i + 1);
      word += text.slice(i + 1, end < 0 ? text.length : end);
      i = end < 0 ? text.length : end;
      inWord = true;
    } else if (ch === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        word += text[i];
        i++;
      }
      inWord = true;
    } else if (ch === '\\' && text[i + 1] === '\n') {
      i++;
    } else if (/\s/.test(ch) || ch === '|' || ch === ')' || ch === '(') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** Every `curl` to the daemon in the README's shell blocks. */
function readmeExamples(): Example[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const lines = readme.split('\n');
  const examples: Example[] = [];
  let inShell = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^```(sh|bash|shell)\s*$/.test(line)) inShell = true;
    else if (line.startsWith('```')) inShell = false;
    if (!inShell || !/\bcurl\b/.test(line)) continue;
    // The command goes on over backslash-ended lines and while a single quote is open.
    let command = line;
    let j = i;
    const open = (t: string) => (t.replace(/"(?:[^"\\]|\\.)*"/g, '').match(/'/g)?.length ?? 0) % 2 === 1;
    while ((/\\\s*$/.test(command) || open(command)) && j + 1 < lines.length) {
      j++;
      command = `${command.replace(/\\\s*$/, '')}\n${lines[j]}`;
    }
    const start = command.indexOf('curl');
    const words = shellWords(
      command
        .slice(start)
        .replace(/\$\(date[^)]*\)/g, '2026-12-01')
        .replace(/\$\{[A-Z_]+\}|\$[A-Z_]+/g, '1'),
    );
    let method = 'GET';
    let url: string | null = null;
    let body: string | null = null;
    let multipart = false;
    for (let k = 1; k < words.length; k++) {
      const w = words[k]!;
      if (w === '-X' || w === '--request') method = words[++k]!.toUpperCase();
      else if (w === '-d' || w === '--data' || w === '--data-binary' || w === '--data-raw')
        body = words[++k]!;
      else if (w === '-F' || w === '--form') {
        multipart = true;
        k++;
      } else if (w === '-H' || w === '-o' || w === '--output' || w === '-u') k++;
      else if (w.startsWith('localhost:') || w.startsWith('http://localhost')) url = w;
    }
    if (!url) continue;
    if (method === 'GET' && (body !== null || multipart)) method = 'POST';
    const parsed = new URL(url.startsWith('http') ? url : `http://${url}`);
    examples.push({
      line: i + 1,
      method,
      path: parsed.pathname,
      query: Object.fromEntries(parsed.searchParams),
      body,
      multipart,
    });
    i = j;
  }
  return examples;
}

interface RegisteredRoute {
  method: string;
  path: string;
  request?: {
    query?: z.ZodType;
    body?: { content: Record<string, { schema: unknown }> };
  };
}

describe("the README's examples", () => {
  it('each calls a documented operation whose schemas accept its query and body', () => {
    const examples = readmeExamples();
    expect(examples.length).toBeGreaterThan(60);
    const routes = app.openAPIRegistry.definitions
      .filter((d) => d.type === 'route')
      .map((d) => (d as unknown as { route: RegisteredRoute }).route);
    const matcher = routes.map((r) => ({
      route: r,
      re: new RegExp(`^${r.path.replace(/\{[^}]+\}/g, '[^/]+')}$`),
    }));
    const problems: string[] = [];
    let bodies = 0;
    for (const ex of examples) {
      const found = matcher.find((m) => m.route.method.toUpperCase() === ex.method && m.re.test(ex.path));
      if (!found) {
        problems.push(`README line ${ex.line}: ${ex.method} ${ex.path} is not a documented operation`);
        continue;
      }
      const { request } = found.route;
      if (request?.query && Object.keys(ex.query).length > 0) {
        const q = request.query.safeParse(ex.query);
        if (!q.success) problems.push(`README line ${ex.line}: query refused: ${q.error.message}`);
      }
      if (ex.body !== null) {
        const schema = request?.body?.content['application/json']?.schema as z.ZodType | undefined;
        if (!schema) {
          problems.push(`README line ${ex.line}: ${ex.method} ${ex.path} sends JSON but takes none`);
          continue;
        }
        let value: unknown;
        try {
          value = JSON.parse(ex.body);
        } catch (err) {
          problems.push(`README line ${ex.line}: the body is not JSON: ${(err as Error).message}`);
          continue;
        }
        const result = schema.safeParse(value);
        if (!result.success) {
          problems.push(
            `README line ${ex.line}: body refused by the documented schema: ${result.error.message}`,
          );
        }
        bodies++;
      }
      if (ex.multipart && !request?.body) {
        problems.push(`README line ${ex.line}: ${ex.method} ${ex.path} uploads a file but documents no body`);
      }
    }
    expect(problems).toEqual([]);
    expect(bodies).toBeGreaterThan(30);
  });
});
