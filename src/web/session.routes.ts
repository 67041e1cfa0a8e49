import { hash } from 'node:crypto';
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { PrincipalResolver } from '../http/auth.js';
import { Forbidden, InvalidInput, TooManyRequests, Unauthenticated } from '../shared/errors.js';
import type { RefusalLog } from '../http/refusals.js';
import type { Logger } from '../shared/logger.js';
import type { Sessions } from './sessions.js';

export const SESSION_COOKIE = 'gallra_session';

/**
 * Failed credentials (unknown or revoked bearer tokens, failed sign-ins), counted per client address
 * and per credential presented (a short hash: no token material is kept). Once either has failed
 * `limit` times within `windowMs`, further failures from it answer 429 instead of 401.
 *
 * Only failures are ever refused: a valid credential is checked and accepted whatever the counts say,
 * so nobody can lock the phone system or a colleague out by failing from their address (behind a
 * proxy everyone may share one) or by spoofing it. The client address is Express's req.ip, which
 * believes X-Forwarded-For only from the proxies TRUST_PROXY names.
 */
export function createAuthFailureLimiter(opts: { limit?: number; windowMs?: number; now?: () => number; maxKeys?: number } = {}) {
  const limit = opts.limit ?? 10;
  const windowMs = opts.windowMs ?? 15 * 60_000;
  const now = opts.now ?? (() => Date.now());
  const maxKeys = opts.maxKeys ?? 100_000;
  const windows = new Map<string, { count: number; resetAt: number }>();

  const keysOf = (req: Request, presented: string | undefined) => [
    `client:${req.ip ?? 'unknown'}`,
    ...(presented ? [`presented:${hash('sha256', presented, 'base64url').slice(0, 22)}`] : []),
  ];
  function countOf(key: string, t: number) {
    const w = windows.get(key);
    return w && w.resetAt > t ? w.count : 0;
  }
  function bump(key: string, t: number) {
    const w = windows.get(key);
    if (w && w.resetAt > t) {
      w.count++;
      return;
    }
    if (windows.size >= maxKeys) for (const [k, v] of windows) if (v.resetAt <= t) windows.delete(k);
    // Still full of live windows: forget the oldest rather than grow without bound.
    if (windows.size >= maxKeys) windows.delete(windows.keys().next().value!);
    windows.set(key, { count: 1, resetAt: t + windowMs });
  }
  return {
    /**
     * Counts one failed credential; throws TooManyRequests when the client or the credential had
     * already failed `limit` times in the window (the caller answers 401 otherwise).
     */
    recordFailure(req: Request, presented: string | undefined): void {
      const t = now();
      const keys = keysOf(req, presented);
      const blocked = keys.some((k) => countOf(k, t) >= limit);
      for (const k of keys) bump(k, t);
      if (blocked) throw new TooManyRequests('too-many-failed-sign-ins', 'Too many failed sign-ins from this address or with this credential; wait a while and try again');
    },
  };
}

export type AuthFailureLimiter = ReturnType<typeof createAuthFailureLimiter>;

/**
 * The `onFailure` hook for `authenticate`: counts the failure (429 once over the limit). Nobody was
 * authenticated, so it is counted and logged at a bounded rate, never audited.
 */
export function onAuthFailure(limiter: AuthFailureLimiter, refusals: RefusalLog) {
  return async (req: Request): Promise<void> => {
    try {
      limiter.recordFailure(req, bearerTokenOf(req));
    } finally {
      refusals.unauthenticated({ route: 'auth', problem: 'invalid-credentials', status: 401, requestId: req.requestId, client: req.ip });
    }
  };
}

function bearerTokenOf(req: Request): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
}

/**
 * The browser session as a PrincipalResolver. An unknown or expired cookie is simply no session (the
 * sign-in page must still work with a stale cookie). Cross-site request forgery: the cookie is
 * SameSite=Strict, and a state-changing request made with it must also carry JSON or
 * `X-Requested-With`, which a plain cross-site form cannot send.
 */
export function sessionResolver(sessions: Sessions): PrincipalResolver {
  return async (req) => {
    const secret = cookieValue(req, SESSION_COOKIE);
    if (!secret) return undefined;
    const p = await sessions.resolve(secret);
    if (!p) return undefined;
    const safe = req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS';
    if (!safe && !req.is('application/json') && !req.get('x-requested-with')) {
      throw new Forbidden('csrf-check-failed', 'Send JSON or an X-Requested-With header with requests that change something');
    }
    return { id: p.id, role: p.role, name: p.name, via: 'session' };
  };
}

export const signIn = z.object({ token: z.string().trim().min(1, 'is required').max(200) });

/** POST /v1/session {token} → cookie; GET /v1/session → who is signed in; DELETE /v1/session → signed out. */
export function sessionRoutes(deps: { sessions: Sessions; limiter: AuthFailureLimiter; refusals: RefusalLog; ttlMs: number; logger: Logger }): Router {
  const router = Router();
  router.post('/v1/session', async (req, res) => {
    const p = signIn.safeParse(req.body ?? {});
    if (!p.success) {
      throw new InvalidInput('invalid-sign-in', 'Send {"token": "<access token>"} as JSON', {
        errors: p.error.issues.map((i) => ({ pointer: '/' + (i.path.join('/') || 'token'), detail: i.message })),
      });
    }
    let opened;
    try {
      opened = await deps.sessions.open(p.data.token);
    } catch (err) {
      if (err instanceof Unauthenticated) {
        deps.refusals.unauthenticated({ route: 'sign-in', problem: err.code, status: 401, requestId: req.requestId, client: req.ip });
        deps.limiter.recordFailure(req, p.data.token);
      }
      throw err;
    }
    res
      .cookie(SESSION_COOKIE, opened.secret, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/', maxAge: deps.ttlMs })
      .status(201)
      .set('Cache-Control', 'no-store')
      .json({ role: opened.principal.role, name: opened.principal.name, expiresAt: opened.expiresAt.toISOString() });
  });

  router.get('/v1/session', (req, res) => {
    if (!req.principal) throw new Unauthenticated('authentication-required', 'Not signed in');
    res.set('Cache-Control', 'no-store').json({ role: req.principal.role, name: req.principal.name, via: req.principal.via });
  });

  router.delete('/v1/session', async (req, res) => {
    const secret = cookieValue(req, SESSION_COOKIE);
    if (secret) await deps.sessions.close(secret);
    res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/' }).set('Cache-Control', 'no-store').status(204).end();
  });
  return router;
}

function cookieValue(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim() || undefined;
  }
  return undefined;
}
