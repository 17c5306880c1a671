import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { answerUnrouted } from '../../lib/http/trailing-slash.ts';

const event = (method: string, rawPath: string, rawQueryString = '') =>
  ({ rawPath, rawQueryString, requestContext: { http: { method } } }) as unknown as APIGatewayProxyEventV2;

describe('answerUnrouted ($default)', () => {
  const cases = [
    { method: 'GET', path: '/health/', query: '', status: 308, location: '/health' },
    {
      method: 'POST',
      path: '/api/v1/billing/send/overdue/',
      query: '',
      status: 308,
      location: '/api/v1/billing/send/overdue',
    },
    {
      method: 'GET',
      path: '/api/v1/billing/queue/q-1/status/',
      query: 'a=1',
      status: 308,
      location: '/api/v1/billing/queue/q-1/status?a=1',
    },
    { method: 'HEAD', path: '/health/', query: '', status: 308, location: '/health' },
    { method: 'DELETE', path: '/health/', query: '', status: 405, code: 'METHOD_NOT_ALLOWED' },
    { method: 'DELETE', path: '/health', query: '', status: 405, code: 'METHOD_NOT_ALLOWED' },
    { method: 'GET', path: '/nope/', query: '', status: 404, code: 'ROUTE_NOT_FOUND' },
    { method: 'GET', path: '/health//', query: '', status: 404, code: 'ROUTE_NOT_FOUND' },
    { method: 'GET', path: '/', query: '', status: 404, code: 'ROUTE_NOT_FOUND' },
  ];

  for (const c of cases) {
    it(`answers ${c.method} ${c.path}${c.query ? `?${c.query}` : ''} with ${c.status}`, () => {
      // Act
      const result = answerUnrouted(event(c.method, c.path, c.query));
      // Assess
      expect(result.statusCode).toBe(c.status);
      if (c.location) expect(result.headers?.location).toBe(c.location);
      if (c.code) expect(JSON.parse(String(result.body))).toMatchObject({ success: false, code: c.code });
    });
  }
});
