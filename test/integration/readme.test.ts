import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type DaemonProcess, spawnDaemon } from '../helpers/daemon-process.js';
import { TEST_REDIS_URL } from '../helpers/db.js';
import { freePort } from '../helpers/ports.js';
import { runCommand } from '../helpers/run-command.js';

const root = path.resolve(import.meta.dirname, '../..');

/**
 * The README's shell examples that call the admin API, in the order they appear: the walk-through
 * of "Two commands" and those that build on it. Blocks with placeholders for a reader's own values
 * (`…`) are not runnable as written and are left out.
 */
function readmeApiExamples(): string[] {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks.filter((b) => b.includes('curl') && b.includes('$TOKEN') && !b.includes('…'));
}

describe("the README's examples", () => {
  let daemon: DaemonProcess | undefined;
  afterAll(async () => {
    await daemon?.stop();
  });

  it('run as written against a started daemon, each answer a success', async () => {
    const examples = readmeApiExamples();
    expect(examples.length).toBeGreaterThanOrEqual(2);
    expect(examples[0]).toContain('TOKEN=$(cat data/admin-token)');

    // A newcomer's directory: ./data/ of its own, the daemon on its defaults but a free port.
    const cwd = mkdtempSync(path.join(tmpdir(), 'sb-readme-'));
    mkdirSync(path.join(cwd, 'data'));
    const port = await freePort();
    daemon = await spawnDaemon(
      {
        NODE_ENV: 'development',
        PORT: String(port),
        HOST: '127.0.0.1',
        REDIS_URL: TEST_REDIS_URL,
        STOCKBRIDGE_DATA_DIR: path.join(cwd, 'data'),
        STOCKBRIDGE_QUEUE_PREFIX: `sbtest-readme-${port}`,
      },
      { port },
    );

    // Each curl's answer on a line of its own, with its HTTP status after it.
    const script = examples
      .join('\n')
      .replaceAll('localhost:3000', `localhost:${port}`)
      .replace(/^curl /gm, `curl -sS -w '\\n%{http_code}\\n' `);
    const r = await runCommand('bash', ['-euo', 'pipefail', '-c', script], {
      cwd,
      env: { PATH: process.env.PATH },
    });
    expect(r.code, r.out).toBe(0);
    const lines = r.out.trim().split('\n');
    const answers: Array<{ status: number; body: unknown }> = [];
    // A download (`-o file`) prints no body: only its status.
    for (let i = 0; i + 1 < lines.length; i += 2)
      answers.push({ status: Number(lines[i + 1]), body: lines[i] === '' ? null : JSON.parse(lines[i]!) });
    const curls = script.match(/^curl /gm)!.length;
    expect(answers, r.out).toHaveLength(curls);
    for (const a of answers) {
      expect(a.status, JSON.stringify(a.body)).toBeGreaterThanOrEqual(200);
      expect(a.status, JSON.stringify(a.body)).toBeLessThan(300);
    }
    // The walk-through's order was taken and reserved what it asked for.
    const order = answers.find((a) => (a.body as { externalId?: string }).externalId === 'WEB-1001');
    expect(order?.body).toMatchObject({ id: 1, lines: [{ sku: 'A1', ordered: 2 }] });
  }, 180_000);
});
