import { Router, type Request, type RequestHandler } from 'express';
import { MemoryStore } from 'express-rate-limit';
import { z } from 'zod';
import type { PrincipalResolver } from '../http/auth.js';
import type { Principal } from '../http/types.js';
import { Forbidden, InvalidInput, TooManyRequests, Unauthenticated } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { SignInFailures } from '../staff-sign-in/index.js';
import { clearSessionCookie, sessionSecretOf, setSessionCookie } from './session-cookie.js';
import type { Sessions } from './sessions.js';

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
    // Sign-in is limited per account or token prefix (staff-sign-in), never per address.
    if (req.get('authorization')) {
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
 * sign-in page must still work with a stale cookie). Cross-site request forgery: a state-changing
 * request made with the cookie must carry the session's CSRF token (X-CSRF-Token), or come with an
 * `Origin` naming this very origin (browsers send it with every cross-origin and same-origin
 * non-GET fetch); a form posted from another site has neither.
 */
export function sessionResolver(sessions: Sessions): PrincipalResolver {
  return async (req) => {
    const secret = sessionSecretOf(req);
    if (!secret) return undefined;
    const p = await sessions.resolve(secret);
    if (!p) return undefined;
    const safe = req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS';
    if (!safe && !csrfSatisfied(req, sessions, secret)) {
      throw new Forbidden('csrf-check-failed', 'Send the session\'s CSRF token (X-CSRF-Token) with requests that change something');
    }
    const { sessionId: _s, ...principal } = p;
    return principal;
  };
}

function csrfSatisfied(req: Request, sessions: Sessions, secret: string): boolean {
  const token = req.get('x-csrf-token');
  if (token) return sessions.csrfTokenMatches(secret, token);
  const origin = req.get('origin');
  return !!origin && origin !== 'null' && origin === `${req.protocol}://${req.get('host')}`;
}

const signIn = z.object({ token: z.string().trim().min(1, 'is required').max(200) });

/** How staff may sign in to the web interface. */
export interface SignInOptions {
  /** Sign-in with the municipality's identity provider (OIDC_ISSUER set). */
  oidc: boolean;
  /** Sign-in with a pasted access token (no OIDC_ISSUER, or ALLOW_TOKEN_SIGNIN=true). */
  token: boolean;
}

/**
 * POST /v1/session {token} → cookie; GET /v1/session → who is signed in (and the CSRF token);
 * DELETE /v1/session → signed out (and, for a person, where the provider signs them out too);
 * GET /v1/sign-in → which ways of signing in are open.
 */
export function sessionRoutes(deps: {
  sessions: Sessions;
  failures: SignInFailures;
  ttlMs: number;
  options: SignInOptions;
  providerSignOutUrl?: () => Promise<string | undefined>;
  logger: Logger;
}): Router {
  const router = Router();
  router.get('/v1/sign-in', (_req, res) => {
    res.set('Cache-Control', 'no-store').json(deps.options);
  });

  router.post('/v1/session', async (req, res) => {
    if (!deps.options.token) {
      throw new Forbidden('token-sign-in-disabled', 'Sign in with the municipality\'s account; token sign-in is turned off (ALLOW_TOKEN_SIGNIN)');
    }
    const p = signIn.safeParse(req.body ?? {});
    if (!p.success) {
      throw new InvalidInput('invalid-sign-in', 'Send {"token": "<access token>"} as JSON', {
        errors: p.error.issues.map((i) => ({ pointer: '/' + (i.path.join('/') || 'token'), detail: i.message })),
      });
    }
    let opened;
    try {
      opened = await deps.sessions.open(p.data.token, sessionSecretOf(req));
    } catch (err) {
      if (err instanceof Unauthenticated) {
        const key = deps.failures.keyForToken(p.data.token);
        const blocked = await deps.failures.record(key);
        await deps.sessions.recordFailure({ via: 'sign-in', method: req.method, path: req.path });
        if (blocked) throw new TooManyRequests('too-many-failed-sign-ins', 'Too many failed sign-ins with this token; check it and try again later');
      }
      throw err;
    }
    setSessionCookie(req, res, opened.secret, deps.ttlMs);
    res
      .status(201)
      .set('Cache-Control', 'no-store')
      .json({ ...whoIs(opened.principal), csrfToken: deps.sessions.csrfTokenOf(opened.secret), expiresAt: opened.expiresAt.toISOString() });
  });

  router.get('/v1/session', (req, res) => {
    if (!req.principal) throw new Unauthenticated('authentication-required', 'Not signed in');
    const secret = req.principal.via === 'session' ? sessionSecretOf(req) : undefined;
    res.set('Cache-Control', 'no-store').json({ ...whoIs(req.principal), via: req.principal.via, ...(secret ? { csrfToken: deps.sessions.csrfTokenOf(secret) } : {}) });
  });

  router.delete('/v1/session', async (req, res) => {
    const secret = sessionSecretOf(req);
    if (secret) await deps.sessions.close(secret);
    clearSessionCookie(req, res);
    res.set('Cache-Control', 'no-store');
    if (req.principal?.kind === 'person' && deps.providerSignOutUrl) {
      let signOutUrl: string | undefined;
      try {
        signOutUrl = await deps.providerSignOutUrl();
      } catch (err) {
        // gallra's session has ended either way; the provider's may outlive it.
        deps.logger.warn('could not reach the identity provider for sign-out', { requestId: req.requestId, err: (err as Error).message });
      }
      if (signOutUrl) return void res.status(200).json({ signOutUrl });
    }
    res.status(204).end();
  });
  return router;
}

function whoIs(p: Principal) {
  return { role: p.role, roles: p.roles ?? [p.role], name: p.name };
}
