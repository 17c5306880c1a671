import { defineConfig, loadEnv, type Plugin } from 'vite';
import { dashboardContentSecurityPolicy } from '../lib/http/dashboard-csp.ts';

/**
 * The operator dashboard (issue 13): built into dashboard/dist and served by the API at /dashboard
 * (lib/http/routes/dashboard.ts). `npm run dev:dashboard` serves it with live reload and sends
 * /api to the local stack (`npm start`, PORT 3000 unless API_URL says otherwise).
 *
 * On AWS (infra/dashboard.ts) it is built into dashboard/dist-site (so a deploy never leaves
 * `npm start` a build it cannot serve) with `--base /` for the root of its static site and
 * VITE_API_URL set to the API's URL: the page then calls another origin, which its
 * Content-Security-Policy must name. The policy goes into the page as a meta tag, since the
 * CloudFront function that could send it as a header cannot know the API's URL (the API's CORS
 * needs the site's URL first).
 */

/** The policy as a meta tag, first in <head>, when the API is on another origin. */
const crossOriginPolicy = (apiUrl: string | undefined): Plugin[] =>
  apiUrl
    ? [
        {
          name: 'dashboard-content-security-policy',
          transformIndexHtml: () => [
            {
              tag: 'meta',
              attrs: {
                'http-equiv': 'Content-Security-Policy',
                content: dashboardContentSecurityPolicy({
                  apiOrigin: new URL(apiUrl).origin,
                  inMetaTag: true,
                }),
              },
              injectTo: 'head-prepend',
            },
          ],
        },
      ]
    : [];

export default defineConfig(({ mode }) => ({
  root: import.meta.dirname,
  base: '/dashboard/',
  plugins: crossOriginPolicy(loadEnv(mode, import.meta.dirname, 'VITE_').VITE_API_URL),
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // One entry, no lazy chunks: the preload polyfill would be dead weight.
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: { '/api': process.env.API_URL ?? 'http://127.0.0.1:3000' },
  },
}));
