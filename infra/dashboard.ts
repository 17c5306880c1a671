import { DASHBOARD_HEADERS } from '../lib/http/dashboard-csp.ts';
import { allowDashboardOrigin, api } from './api.ts';

/**
 * The operator dashboard on AWS (design section 10): the Vite app of dashboard/ as an SST static site
 * (S3 behind CloudFront), instead of the local stack's /dashboard route.
 * - Built by `npm run build:dashboard` for the root of its own origin into dashboard/dist-site (the
 *   local build in dashboard/dist stays as `npm start` serves it), with VITE_API_URL set to the API's
 *   URL: the app calls the API there, the only origin its Content-Security-Policy lets it fetch.
 * - The policy is a meta tag the build writes (dashboard/vite.config.ts); CloudFront adds the
 *   headers a meta tag cannot stand for (`frame-ancestors`, no sniffing, no referrer).
 * - Its URL is the only origin the API's CORS allows (infra/api.ts).
 * - Deployed in `sst dev` too (`dev: false`), so a dev stage has the same origin rules as production.
 */

export const DASHBOARD_SITE_BUILD = {
  command: 'npm run build:dashboard -- --base / --outDir dist-site',
  output: 'dist-site',
};

/** Headers on every file of the site (a meta tag cannot carry `frame-ancestors`). */
export const DASHBOARD_SITE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "frame-ancestors 'none'",
  ...DASHBOARD_HEADERS,
};

export const dashboardSite = new sst.aws.StaticSite('DashboardSite', {
  path: 'dashboard',
  build: DASHBOARD_SITE_BUILD,
  environment: { VITE_API_URL: api.url },
  // SST writes the environment's types for Vite; dashboard/src/env.d.ts declares them already.
  vite: { types: '../.sst/dashboard-env.d.ts' },
  dev: false,
  edge: {
    viewerResponse: {
      injection: Object.entries(DASHBOARD_SITE_HEADERS)
        .map(
          ([name, value]) =>
            `event.response.headers[${JSON.stringify(name)}] = { value: ${JSON.stringify(value)} };`,
        )
        .join('\n'),
    },
  },
});

allowDashboardOrigin(dashboardSite.url);
