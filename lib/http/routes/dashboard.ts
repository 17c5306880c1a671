import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DomainError } from '../../domain/errors.ts';
import { DASHBOARD_HEADERS, dashboardContentSecurityPolicy } from '../dashboard-csp.ts';
import type { HttpRequest, HttpResponse } from '../http-handler.ts';
import { dashboardAssetParamsSchema } from '../schemas/common.ts';
import { staticSiteRoute } from './static-site.ts';

/**
 * GET /dashboard: the operator dashboard (dashboard/, built by Vite into dashboard/dist), and
 * GET /dashboard/assets/{asset}: its hashed JS and CSS. Same origin as the API, so the page needs
 * no CORS, and a strict Content-Security-Policy: everything from 'self', nothing inline, no CDN.
 * Only files Vite wrote to dist/assets are served, so a crafted `{asset}` never reaches another file.
 * Local mode only: on AWS the dashboard is a static site (infra/dashboard.ts), not a function.
 */

const BASE = '/dashboard';

/** Where Vite writes the build (lib/local/dashboard-build.ts builds it on `npm start` when missing or stale). */
export const DASHBOARD_DIST = fileURLToPath(new URL('../../../dashboard/dist/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

const SECURITY_HEADERS = {
  'content-security-policy': dashboardContentSecurityPolicy(),
  ...DASHBOARD_HEADERS,
};

/** The build's file, or DASHBOARD_NOT_BUILT when there is no build (a deployment without the dashboard). */
const readBuilt = async (path: string): Promise<string> => {
  try {
    return await readFile(path, 'utf8');
  } catch {
    throw new DomainError('DASHBOARD_NOT_BUILT');
  }
};

const servePage = async (): Promise<HttpResponse> => ({
  statusCode: 200,
  body: await readBuilt(join(DASHBOARD_DIST, 'index.html')),
  headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', ...SECURITY_HEADERS },
});

const serveAsset = async (request: HttpRequest): Promise<HttpResponse> => {
  const name = request.pathParameters.asset ?? '';
  const built = await readdir(join(DASHBOARD_DIST, 'assets')).catch(() => [] as string[]);
  const contentType = CONTENT_TYPES[extname(name)];
  if (!built.includes(name) || !contentType) throw new DomainError('ROUTE_NOT_FOUND');
  return {
    statusCode: 200,
    body: await readBuilt(join(DASHBOARD_DIST, 'assets', name)),
    // Vite puts a content hash in every asset name: a new build is a new name.
    headers: {
      'content-type': contentType,
      'cache-control': 'public, max-age=31536000, immutable',
      ...SECURITY_HEADERS,
    },
  };
};

export const dashboardRoute = staticSiteRoute({
  name: 'dashboard',
  path: BASE,
  assetsPath: `${BASE}/assets`,
  assetParams: dashboardAssetParamsSchema,
  tags: ['Painel'],
  page: {
    description: 'Página HTML do painel.',
    operationId: 'dashboard_page',
    summary: 'Painel do operador',
    details:
      'Entre com uma API Key; o painel usa só esta API. Servido pelo modo local (`npm start`); na AWS o ' +
      'painel é um site estático (CloudFront) que chama esta API.',
  },
  asset: { operationId: 'dashboard_asset', summary: 'Arquivos estáticos do painel' },
  errors: ['DASHBOARD_NOT_BUILT'],
  localOnly: true,
  servePage,
  serveAsset,
});
