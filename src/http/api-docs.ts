import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { secureHeaders } from 'hono/secure-headers';
import { z } from 'zod';
import type { Conn } from '../db/connection.js';
import { notFound } from '../errors/domain-errors.js';
import type { AppEnv } from './env.js';
import { routeRegistrar } from './openapi.js';

/**
 * The API reference page (`GET /api/docs`): Swagger UI reading `/api/openapi.json`. Its script and
 * style come from the swagger-ui-dist package and are served by the daemon itself under
 * `/api/docs/assets/` — no CDN, so the page works on a network without the internet, and its
 * Content-Security-Policy allows scripts from this origin only (no inline script: the page is
 * started by a small script file of its own).
 */

export const API_DOCS_PATH = '/docs';
const ASSETS = `${API_DOCS_PATH}/assets`;

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';
const HTML = 'text/html; charset=utf-8';

/** Where the package's files are on disk (it is a dependency, resolved like an import). */
const swaggerDir = () => path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** Starts Swagger UI on the page's element, with the document of this daemon. */
const INIT_SCRIPT = `'use strict';
window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/api/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    persistAuthorization: false,
  });
});
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>stockbridge API reference · API 参考</title>
<link rel="stylesheet" href="/api${ASSETS}/swagger-ui.css">
</head>
<body>
<noscript>The API reference needs JavaScript; the document itself is at /api/openapi.json. · API 参考页需要启用 JavaScript；接口文档本身位于 /api/openapi.json。</noscript>
<div id="swagger-ui"></div>
<script src="/api${ASSETS}/swagger-ui-bundle.js"></script>
<script src="/api${ASSETS}/init.js"></script>
</body>
</html>
`;

/** The asset files by name: the package's two, read once and kept, and the start script. */
const ASSET_FILES: Record<string, { type: string; file?: string; text?: string }> = {
  'swagger-ui-bundle.js': { type: JS, file: 'swagger-ui-bundle.js' },
  'swagger-ui.css': { type: CSS, file: 'swagger-ui.css' },
  'init.js': { type: JS, text: INIT_SCRIPT },
};

/**
 * Adds `GET /docs` and its assets to `api` (mounted at `/api`), public: the page holds no data, and
 * the document it reads is public too. Call it before the API's authentication middleware.
 */
export function addApiDocs(api: OpenAPIHono<AppEnv>, { db }: { db: Conn }): void {
  const route = routeRegistrar(api, { tag: 'Reference', entity: 'api_docs', db });
  const loaded = new Map<string, Promise<Buffer>>();
  const load = (file: string) => {
    let body = loaded.get(file);
    if (!body) {
      body = readFile(path.join(swaggerDir(), file));
      // A failed read is tried again on the next request rather than kept.
      body.catch(() => loaded.delete(file));
      loaded.set(file, body);
    }
    return body;
  };

  api.use(
    `${API_DOCS_PATH}`,
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        // Swagger UI sets style attributes on its elements.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        baseUri: ["'none'"],
        formAction: ["'none'"],
        frameAncestors: ["'none'"],
      },
    }),
  );
  api.use(`${ASSETS}/*`, secureHeaders());

  route(
    {
      method: 'get',
      path: API_DOCS_PATH,
      access: 'public',
      operationId: 'getApiReference',
      summary: 'The API reference page (Swagger UI over /api/openapi.json)',
      responses: { 200: { description: 'The page', contentType: HTML } },
    },
    (c) => c.html(PAGE),
  );

  route(
    {
      method: 'get',
      path: `${ASSETS}/:name`,
      access: 'public',
      operationId: 'getApiReferenceAsset',
      summary: 'A script or style of the reference page',
      params: z.object({
        name: z
          .string()
          .max(64)
          .describe(`asset name: ${Object.keys(ASSET_FILES).join(', ')}`),
      }),
      responses: {
        200: { description: 'The asset', contentType: JS, files: [CSS] },
      },
      errors: [404],
    },
    async (c, { params }) => {
      const asset = Object.hasOwn(ASSET_FILES, params.name) ? ASSET_FILES[params.name] : undefined;
      if (!asset) throw notFound(`asset ${params.name}`);
      const body = asset.file ? new Uint8Array(await load(asset.file)) : asset.text!;
      c.header('Content-Type', asset.type);
      c.header('Cache-Control', 'public, max-age=3600');
      return c.body(body);
    },
  );
}
