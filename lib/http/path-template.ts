/**
 * A route path with `{param}` segments (`/api/v1/billing/queue/{queue_id}/status`) matched against a
 * request path the way API Gateway matches its route keys: one segment per parameter, and, like the
 * local gateway (lib/local/api-gateway-server.ts), both spellings of the path (with and without the
 * trailing slash). Used where no API Gateway routes the request: the local gateway, and the function
 * URL of a route (lib/http/function-url.ts).
 */
export interface PathTemplate {
  path: string;
  /** The decoded parameters when `pathname` matches, else undefined. */
  match(pathname: string): Record<string, string> | undefined;
}

/** Broken percent-encoding is passed through as typed: the route then answers its own 404. */
const decode = (raw: string): string => {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
};

export const compilePathTemplate = (path: string): PathTemplate => {
  const names: string[] = [];
  const source = path
    .split('/')
    .map((segment) => {
      const m = /^\{(\w+)\}$/.exec(segment);
      if (!m?.[1]) return segment.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
      names.push(m[1]);
      return '([^/]+)';
    })
    .join('/');
  const pattern = new RegExp(`^${source}/?$`);
  return {
    path,
    match: (pathname) => {
      const m = pattern.exec(pathname);
      if (!m) return undefined;
      return Object.fromEntries(names.map((name, i) => [name, decode(m[i + 1] ?? '')]));
    },
  };
};
