/**
 * The operator dashboard's Content-Security-Policy: everything from 'self', nothing inline, no CDN.
 * Locally the page comes from the API's own origin (lib/http/routes/dashboard.ts, as a header). On
 * AWS it comes from its static site (infra/dashboard.ts) and calls the API on another origin:
 * `apiOrigin` is then allowed to be fetched, and the policy rides in a meta tag written by the
 * build (dashboard/vite.config.ts), which cannot carry `frame-ancestors` (CloudFront sends that one
 * as a header).
 */
export const dashboardContentSecurityPolicy = (site: { apiOrigin?: string; inMetaTag?: boolean } = {}) =>
  [
    "default-src 'self'",
    ...(site.apiOrigin ? [`connect-src 'self' ${site.apiOrigin}`] : []),
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    ...(site.inMetaTag ? [] : ["frame-ancestors 'none'"]),
  ].join('; ');

/** The headers every dashboard file is served with, besides the policy. */
export const DASHBOARD_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;
