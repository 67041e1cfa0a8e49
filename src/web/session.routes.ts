import { Router, type Request, type RequestHandler } from 'express';
import { MemoryStore } from 'express-rate-limit';
import { z } from 'zod';
import type { PrincipalResolver } from '../http/auth.js';
import { Forbidden, InvalidInput, TooManyRequests, Unauthenticated } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { Sessions } from './sessions.js';

export const SESSION_COOKIE = 'gallra_session';

/**
 * Counts refused credentials per client address (failed sign-ins, unknown or revoked bearer tokens) and
 * answers 429 once `limit` have failed within `windowMs`. Only a refusal is counted, when it happens
 * (express-rate-limit's own counting adds every request and takes successes back when they finish, so a
 * client that hangs up mid-request — an IVR does — would leak counts and lock itself out). Only requests
 * that carry credentials are blocked, so a signed-in colleague behind the same address is unaffected.
 */
export function createAuthFailureLimiter(opts: { limit?: number; windowMs?: number } = {}) {
  const limit = opts.limit ?? 10;
  const windowMs = opts.windowMs ?? 15 * 60_000;
  const store = new MemoryStore();
  store.init({ windowMs } as Parameters<MemoryStore['init']>[0]);
  const keyOf = (req: Request) => req.ip ?? 'unknown';
  // Addresses at the limit, until their window resets: asked on every request that carries credentials.
  const blocked = new Map<string, number>();
  /** 429 for a request that carries credentials from an address with too many recent refusals. */
  function refuseIfBlocked(req: Request): void {
    if (blocked.size === 0) return;
    const key = keyOf(req);
    const until = blocked.get(key);
    if (until === undefined) return;
    if (until <= Date.now()) {
      blocked.delete(key);
      return;
    }
    const carriesCredentials = !!req.get('authorization') || (req.method === 'POST' && req.path === '/v1/session');
    if (carriesCredentials) {
      throw new TooManyRequests('too-many-failed-sign-ins', 'Too many failed sign-ins from this address; wait a while and try again');
    }
  }
  return {
    refuseIfBlocked,
    middleware: ((req, _res, next) => {
      refuseIfBlocked(req);
      next();
    }) as RequestHandler,
    async record(req: Request): Promise<void> {
      const key = keyOf(req);
      const { totalHits, resetTime } = await store.increment(key);
      if (totalHits < limit) return;
      if (blocked.size >= 10_000) for (const [k, until] of blocked) if (until <= Date.now()) blocked.delete(k);
      blocked.set(key, resetTime?.getTime() ?? Date.now() + windowMs);
    },
    shutdown: () => store.shutdown(),
  };
}

export type AuthFailureLimiter = ReturnType<typeof createAuthFailureLimiter>;

/** The `onFailure` hook for `authenticate`: counts the refusal and audits it (no token material). */
export function onAuthFailure(sessions: Sessions, limiter: AuthFailureLimiter, logger: Logger) {
  return async (req: Request): Promise<void> => {
    await limiter.record(req);
    try {
      await sessions.recordFailure({ via: 'token', method: req.method, path: req.path });
    } catch (err) {
      logger.error('could not audit a failed authentication', { requestId: req.requestId, err: (err as Error).message });
    }
  };
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

const signIn = z.object({ token: z.string().trim().min(1, 'is required').max(200) });

/** POST /v1/session {token} → cookie; GET /v1/session → who is signed in; DELETE /v1/session → signed out. */
export function sessionRoutes(deps: { sessions: Sessions; limiter: AuthFailureLimiter; ttlMs: number; logger: Logger }): Router {
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
        await deps.limiter.record(req);
        await deps.sessions.recordFailure({ via: 'sign-in', method: req.method, path: req.path });
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
