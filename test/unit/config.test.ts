import { describe, expect, it } from 'vitest';
import { ConfigError, configWarnings, loadConfig, redactUrl } from '../../src/config.js';

const base = { STOCKBRIDGE_CONFIG: undefined };

describe('loadConfig', () => {
  it('has working defaults', () => {
    const c = loadConfig({ ...base });
    expect(c).toMatchObject({
      REDIS_URL: 'redis://127.0.0.1:6379',
      PORT: 3000,
      STOCKBRIDGE_QUEUE_PREFIX: 'stockbridge',
      STOCKBRIDGE_ROLES: ['api', 'worker', 'scheduler'],
    });
    expect(c.DATABASE_URL).toBeUndefined();
  });

  it('takes the business time zone as an IANA name, UTC by default', () => {
    expect(loadConfig({ ...base }).STOCKBRIDGE_TIME_ZONE).toBe('UTC');
    expect(loadConfig({ ...base, STOCKBRIDGE_TIME_ZONE: 'Asia/Shanghai' }).STOCKBRIDGE_TIME_ZONE).toBe(
      'Asia/Shanghai',
    );
    expect(() => loadConfig({ ...base, STOCKBRIDGE_TIME_ZONE: 'Mars/Olympus' })).toThrow(
      /STOCKBRIDGE_TIME_ZONE/,
    );
  });

  it('names every bad key at once', () => {
    try {
      loadConfig({
        DATABASE_URL: 'postgres://x',
        PORT: 'eighty',
        STOCKBRIDGE_ROLES: 'api,cook',
        STOCKBRIDGE_SECRET_KEY: 'short',
        LOG_LEVEL: 'loud',
      });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const text = (err as ConfigError).problems.join('\n');
      for (const key of ['DATABASE_URL', 'PORT', 'STOCKBRIDGE_ROLES', 'STOCKBRIDGE_SECRET_KEY', 'LOG_LEVEL'])
        expect(text).toContain(key);
    }
  });

  it('requires the secret key and admin token in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(
      /STOCKBRIDGE_SECRET_KEY[\s\S]*STOCKBRIDGE_ADMIN_TOKEN/,
    );
    const ok = loadConfig({
      NODE_ENV: 'production',
      STOCKBRIDGE_SECRET_KEY: 'ab'.repeat(32),
      STOCKBRIDGE_ADMIN_TOKEN: 'x'.repeat(32),
    });
    expect(ok.NODE_ENV).toBe('production');
  });

  it('parses roles and treats empty strings as unset', () => {
    expect(loadConfig({ STOCKBRIDGE_ROLES: 'worker, scheduler', PORT: '' }).STOCKBRIDGE_ROLES).toEqual([
      'worker',
      'scheduler',
    ]);
  });
});

describe('Redis Cluster settings', () => {
  it('takes seed nodes as host:port or redis:// URLs', () => {
    const c = loadConfig({
      REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis://:pw@10.0.0.2:7001',
      STOCKBRIDGE_QUEUE_PREFIX: '{sb}',
    });
    expect(c.REDIS_CLUSTER_NODES).toEqual(['10.0.0.1:7000', 'redis://:pw@10.0.0.2:7001']);
    expect(c.STOCKBRIDGE_QUEUE_PREFIX).toBe('{sb}');
  });

  it('refuses a cluster whose queue prefix is not in braces, with the other bad keys', () => {
    try {
      loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000', PORT: 'x' });
      expect.unreachable();
    } catch (err) {
      const text = (err as ConfigError).problems.join('\n');
      expect(text).toMatch(/STOCKBRIDGE_QUEUE_PREFIX: must be wrapped in braces .*\{stockbridge\}/);
      expect(text).toContain('PORT');
    }
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'a:1', STOCKBRIDGE_QUEUE_PREFIX: 'sb' })).toThrow(
      /STOCKBRIDGE_QUEUE_PREFIX.*braces/,
    );
    // Braces are fine without a cluster too.
    expect(loadConfig({ STOCKBRIDGE_QUEUE_PREFIX: '{sb}' }).REDIS_CLUSTER_NODES).toBeUndefined();
  });

  it('names a bad node without its password', () => {
    try {
      loadConfig({ REDIS_CLUSTER_NODES: 'redis://:hunter2@h:99999', STOCKBRIDGE_QUEUE_PREFIX: '{sb}' });
      expect.unreachable();
    } catch (err) {
      const text = (err as ConfigError).problems.join('\n');
      expect(text).toContain('REDIS_CLUSTER_NODES');
      expect(text).not.toContain('hunter2');
    }
    expect(() => loadConfig({ STOCKBRIDGE_QUEUE_PREFIX: '{sb' })).toThrow(/STOCKBRIDGE_QUEUE_PREFIX/);
  });

  it('takes a heartbeat interval that divides a minute, and none by default', () => {
    expect(loadConfig({}).STOCKBRIDGE_HEARTBEAT_SECONDS).toBeUndefined();
    expect(loadConfig({ STOCKBRIDGE_HEARTBEAT_SECONDS: '2' }).STOCKBRIDGE_HEARTBEAT_SECONDS).toBe(2);
    expect(() => loadConfig({ STOCKBRIDGE_HEARTBEAT_SECONDS: '7' })).toThrow(/STOCKBRIDGE_HEARTBEAT_SECONDS/);
  });
});

describe('redactUrl', () => {
  it('hides passwords', () => {
    expect(redactUrl('mysql://app:s3cret@db:3306/stock')).toBe('mysql://app:***@db:3306/stock');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
});

describe('configWarnings', () => {
  const production = {
    NODE_ENV: 'production',
    STOCKBRIDGE_SECRET_KEY: 'ab'.repeat(32),
    STOCKBRIDGE_ADMIN_TOKEN: 'x'.repeat(32),
  };

  it('warns a production API without STOCKBRIDGE_PUBLIC_URL that webhook URLs will say localhost', () => {
    const warnings = configWarnings(loadConfig({ ...production, PORT: '8080' }));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('STOCKBRIDGE_PUBLIC_URL');
    expect(warnings[0]).toContain('http://localhost:8080');
  });

  it('says nothing with a public URL, in development, or without the api role', () => {
    expect(
      configWarnings(loadConfig({ ...production, STOCKBRIDGE_PUBLIC_URL: 'https://sb.example.com' })),
    ).toEqual([]);
    expect(configWarnings(loadConfig({}))).toEqual([]);
    expect(configWarnings(loadConfig({ ...production, STOCKBRIDGE_ROLES: 'worker' }))).toEqual([]);
  });
});
