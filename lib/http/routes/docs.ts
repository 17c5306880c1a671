import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DomainError } from '../../domain/errors.ts';
import type { HttpRequest, HttpResponse } from '../http-handler.ts';
import { docsAssetParamsSchema } from '../schemas/common.ts';
import { staticSiteRoute } from './static-site.ts';

/**
 * GET /api/v1/billing/docs: Swagger UI over our OpenAPI document, and
 * GET /api/v1/billing/docs/{asset}: its JS/CSS, served from the swagger-ui-dist package
 * (no CDN: machines running this may have no internet). Only whitelisted names are served,
 * so a crafted `{asset}` can never reach another file.
 */

const BASE = '/api/v1/billing/docs';
const OPENAPI_URL = '/api/v1/billing/openapi.json';
const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

const requireHere = createRequire(import.meta.url);
// Resolved when first served, not at import: the infra reads the route list without serving it.
const distDir = () => dirname(requireHere.resolve('swagger-ui-dist/package.json'));
const distVersion = () => (requireHere('swagger-ui-dist/package.json') as { version: string }).version;

// Our initializer is a file, not an inline script, so the page also works under a strict CSP.
const INIT_SCRIPT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: ${JSON.stringify(OPENAPI_URL)},
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: 'StandaloneLayout',
  });
});
`;

/** The assets the page may load: name -> content type and where the text comes from. */
export const DOCS_ASSETS: Record<string, { contentType: string; load: () => Promise<string> }> = {
  'swagger-ui.css': { contentType: CSS, load: () => readFile(join(distDir(), 'swagger-ui.css'), 'utf8') },
  'swagger-ui-bundle.js': {
    contentType: JS,
    load: () => readFile(join(distDir(), 'swagger-ui-bundle.js'), 'utf8'),
  },
  'swagger-ui-standalone-preset.js': {
    contentType: JS,
    load: () => readFile(join(distDir(), 'swagger-ui-standalone-preset.js'), 'utf8'),
  },
  'docs-init.js': { contentType: JS, load: async () => INIT_SCRIPT },
};

// The version in the URL busts browser caches when the package is upgraded.
const asset = (name: string) => `${BASE}/${name}?v=${distVersion()}`;

const page = () => `<!DOCTYPE html>
<html lang="pt-BR">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Billing API - documentação</title>
    <link rel="stylesheet" href="${asset('swagger-ui.css')}">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${asset('swagger-ui-bundle.js')}"></script>
    <script src="${asset('swagger-ui-standalone-preset.js')}"></script>
    <script src="${asset('docs-init.js')}"></script>
  </body>
</html>
`;

const loaded = new Map<string, string>();

const servePage = async (): Promise<HttpResponse> => ({
  statusCode: 200,
  body: page(),
  headers: {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
  },
});

const serveAsset = async (request: HttpRequest): Promise<HttpResponse> => {
  const name = request.pathParameters.asset ?? '';
  // Own keys only: `constructor` or `__proto__` must not resolve to something.
  const spec = Object.hasOwn(DOCS_ASSETS, name) ? DOCS_ASSETS[name] : undefined;
  if (!spec) throw new DomainError('ROUTE_NOT_FOUND');
  let text = loaded.get(name);
  if (text === undefined) {
    text = await spec.load();
    loaded.set(name, text);
  }
  return {
    statusCode: 200,
    body: text,
    headers: {
      'content-type': spec.contentType,
      'cache-control': 'public, max-age=86400',
      'x-content-type-options': 'nosniff',
    },
  };
};

export const docsRoute = staticSiteRoute({
  name: 'docs',
  path: BASE,
  assetsPath: BASE,
  assetParams: docsAssetParamsSchema,
  tags: ['Documentação'],
  page: {
    description: 'Página HTML.',
    operationId: 'docs_page',
    summary: 'Documentação navegável (Swagger UI)',
  },
  asset: { operationId: 'docs_asset', summary: 'Arquivos estáticos da página de documentação' },
  servePage,
  serveAsset,
});
