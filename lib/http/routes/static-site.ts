import type { z } from 'zod';
import { DomainError, type ErrorCode } from '../../domain/errors.ts';
import type { HttpRequest, HttpResponse } from '../http-handler.ts';
import { defineOperation, type HttpRoute } from '../route.ts';

/** One HTML page and the static files it loads, as a route of the list (the docs, the dashboard). */
export interface StaticSite {
  name: string;
  /** The page's path; the files are at `${assetsPath}/{asset}`. */
  path: string;
  assetsPath: string;
  /** The `{asset}` parameter's schema: any name passes; an unknown one is a 404 from `serveAsset`. */
  assetParams: z.ZodType<{ asset: string }>;
  tags: string[];
  page: { description: string; operationId: string; summary: string; details?: string };
  asset: { operationId: string; summary: string };
  /** Codes both answers may give besides ROUTE_NOT_FOUND (e.g. a missing build). */
  errors?: ErrorCode[];
  /** Served by the local stack only (HttpRoute.localOnly). */
  localOnly?: true;
  servePage(): Promise<HttpResponse>;
  serveAsset(request: HttpRequest): Promise<HttpResponse>;
}

/** The two GET operations of a static site: its page, and its whitelisted files. */
export const staticSiteRoute = (site: StaticSite): HttpRoute<unknown> => ({
  name: site.name,
  ...(site.localOnly ? { localOnly: site.localOnly } : {}),
  operations: [
    defineOperation({
      method: 'GET',
      path: site.path,
      auth: 'none',
      responses: {
        200: { description: site.page.description, content: { 'text/html': { schema: { type: 'string' } } } },
      },
      errors: site.errors ?? [],
      openapi: {
        operationId: site.page.operationId,
        tags: site.tags,
        summary: site.page.summary,
        ...(site.page.details ? { description: site.page.details } : {}),
      },
      handler: () => site.servePage(),
    }),
    defineOperation({
      method: 'GET',
      path: `${site.assetsPath}/{asset}`,
      auth: 'none',
      request: { params: { schema: site.assetParams, invalid: () => new DomainError('ROUTE_NOT_FOUND') } },
      responses: {
        200: {
          description: 'JavaScript ou CSS.',
          content: { 'text/javascript': { schema: { type: 'string' } } },
        },
      },
      errors: ['ROUTE_NOT_FOUND', ...(site.errors ?? [])],
      openapi: { operationId: site.asset.operationId, tags: site.tags, summary: site.asset.summary },
      handler: async (_deps, { request }) => site.serveAsset(request),
    }),
  ],
});
