import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStack, type TestStack } from '../helpers/stack.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await createStack({ sqlite: true });
});

afterAll(async () => {
  await stack?.close();
});

/** A GET without any credential, as a browser opening the page would make it. */
const get = (path: string) => stack.app.request(path);

describe('the API reference page', () => {
  it('serves the page without a credential, naming its assets, with a CSP and no external URL', async () => {
    const res = await get('/api/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-eval');
    const html = await res.text();
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(refs).toEqual([
      '/api/docs/assets/swagger-ui.css',
      '/api/docs/assets/swagger-ui-bundle.js',
      '/api/docs/assets/init.js',
    ]);
    // Nothing from elsewhere: no absolute or protocol-relative URL, and no inline script.
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/(?:src|href)="\/\//);
    expect(html).not.toMatch(/<script>/);
  });

  it.each([
    ['swagger-ui-bundle.js', /^text\/javascript/],
    ['swagger-ui.css', /^text\/css/],
    ['init.js', /^text\/javascript/],
  ])('serves %s itself', async (name, type) => {
    const res = await get(`/api/docs/assets/${name}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(type);
    const body = await res.text();
    expect(body.length).toBeGreaterThan(0);
    if (name === 'init.js') {
      expect(body).toContain('/api/openapi.json');
      expect(body).not.toMatch(/https?:\/\//);
    }
  });

  it('answers 404 for an asset it does not have, and the page is in the document as a public operation', async () => {
    expect((await get('/api/docs/assets/secret.txt')).status).toBe(404);
    expect((await get('/api/docs/assets/..%2Fpackage.json')).status).toBe(404);
    const doc = await get('/api/openapi.json');
    expect(doc.status).toBe(200);
    const body = (await doc.json()) as { paths: Record<string, Record<string, { security?: unknown[] }>> };
    expect(body.paths['/api/docs']?.get?.security).toEqual([]);
    expect(body.paths['/api/docs/assets/{name}']?.get).toBeDefined();
  });
});
