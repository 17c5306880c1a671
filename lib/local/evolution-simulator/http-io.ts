import type { IncomingMessage, ServerResponse } from 'node:http';

/** Only the first MiB of a body is kept; the rest is read and dropped, so a huge body fails as bad JSON. */
const MAX_BODY_BYTES = 1024 * 1024;
const JSON_TYPE = 'application/json; charset=utf-8';

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

/** Writes a JSON answer unless the socket is gone or already answered (a `reset`, a closed server). */
export const sendJson = (res: ServerResponse, status: number, body: unknown): void => {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, { 'content-type': JSON_TYPE });
  res.end(JSON.stringify(body));
};

/** Evolution's error envelope (its exception classes plus the global error handler). */
export const envelope = (status: number, error: string, message: unknown) => ({
  status,
  error,
  response: { message },
});
export const badRequest = (message: unknown) => envelope(400, 'Bad Request', message);

type ParsedJson = { ok: true; value: unknown } | { ok: false; error: string };

/** An empty body reads as `{}`: a missing body is a schema failure, not a JSON one. */
export const parseJson = (raw: string): ParsedJson => {
  if (raw.trim() === '') return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(raw) as unknown };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
};
