import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { portIsFree, waitFor } from './ports.js';

const run = promisify(execFile);

export interface LocalRedisCluster {
  /** `127.0.0.1:port` of each master, for REDIS_CLUSTER_NODES. */
  nodes: string[];
  /** Shuts every node down (no save) and removes its files. */
  stop(): Promise<void>;
}

/** Three ports in the high range whose cluster bus ports (port + 10000) are free too. */
async function pickPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let tries = 0; ports.length < count && tries < 200; tries++) {
    const p = 20_000 + Math.floor(Math.random() * 20_000);
    if (ports.includes(p) || ports.includes(p + 10_000) || ports.includes(p - 10_000)) continue;
    if ((await portIsFree(p)) && (await portIsFree(p + 10_000))) ports.push(p);
  }
  if (ports.length < count) throw new Error('no free ports for a Redis Cluster');
  return ports;
}

/**
 * Starts a Redis Cluster of `masters` nodes (no replicas) in a temporary folder, with the local
 * `redis-server` and `redis-cli`, and waits until it reports `cluster_state:ok`.
 */
export async function startRedisCluster(masters = 3): Promise<LocalRedisCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-redis-cluster-'));
  const ports = await pickPorts(masters);
  const started: number[] = [];
  const stop = async () => {
    await Promise.all(
      started.map((p) => run('redis-cli', ['-p', String(p), 'shutdown', 'nosave']).catch(() => {})),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const p of ports) {
      await run('redis-server', [
        '--port',
        String(p),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        path.join(dir, `nodes-${p}.conf`),
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'yes',
        '--dir',
        dir,
        '--logfile',
        path.join(dir, `redis-${p}.log`),
      ]);
      started.push(p);
    }
    for (const p of ports) {
      await waitFor(
        `redis on ${p}`,
        () =>
          run('redis-cli', ['-p', String(p), 'ping']).then(
            (r) => r.stdout.trim() === 'PONG',
            () => false,
          ),
        15_000,
      );
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    for (const p of ports) {
      await waitFor(
        `cluster_state:ok on ${p}`,
        () =>
          run('redis-cli', ['-p', String(p), 'cluster', 'info']).then(
            (r) => r.stdout.includes('cluster_state:ok'),
            () => false,
          ),
        30_000,
        200,
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { nodes: ports.map((p) => `127.0.0.1:${p}`), stop };
}
