import type { RequestHandler } from 'express';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * helmet's security headers, as the middleware every route goes through and as the flat
 * [name, value, …] list helmet sets, for the one route that writes its whole answer in one call
 * (the IVR's pre-call check, which runs before the middleware: see optOutCheck). The list is read
 * off the middleware itself at start-up, so the two cannot differ. That needs options without
 * per-request values (no CSP nonces): reading the request fails the capture, and so does a value
 * that differs between two captures.
 */
export function securityHeaders(options: Readonly<HelmetOptions>): { middleware: RequestHandler; list: readonly string[] } {
  const middleware = helmet(options);
  const first = capture(middleware);
  if (capture(middleware).join('\n') !== first.join('\n')) throw perRequest();
  return { middleware, list: Object.freeze(first) };
}

function capture(middleware: RequestHandler): string[] {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader: (name: string, value: string) => headers.set(name, String(value)),
    removeHeader: (name: string) => headers.delete(name),
  };
  const noRequest = new Proxy({}, { get: () => { throw perRequest(); } });
  let outcome: { err?: unknown } | undefined;
  middleware(noRequest as never, recorder as never, (err?: unknown) => (outcome = { err }));
  if (!outcome) throw new Error('securityHeaders: helmet did not finish synchronously');
  if (outcome.err) throw perRequest();
  return [...headers].flat();
}

const perRequest = () => new Error('securityHeaders: helmet options must not depend on the request');
