import { hash } from 'node:crypto';
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { PrincipalResolver } from '../http/auth.js';
import type { Principal } from '../http/types.js';
import { Forbidden, InvalidInput, TooManyRequests, Unauthenticated } from '../shared/errors.js';
import type { RefusalLog } from '../http/refusals.js';
import { errorFacts, type Logger } from '../shared/logger.js';
import { fieldErrorOf } from '../shared/field-errors.js';
import type { SignInFailures } from '../staff-sign-in/index.js';
import { clearSessionCookie, sessionSecretOf, setSessionCookie } from '../http/session-cookie.js';
import type { Sessions } from './sessions.js';

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

export const signIn = z.object({ token: z.string().trim().min(1, 'is required').max(200) });

/** How staff may sign in to the web interface. */
export interface SignInOptions {
  /** Sign-in with the municipality's identity provider (OIDC_ISSUER set). */
  oidc: boolean;
  /** Sign-in with a pasted access token (no OIDC_ISSUER, or ALLOW_TOKEN_SIGNIN=true). */
  token: boolean;
  /** The controller the interface's footer names (CONTROLLER_*, DPO_CONTACT): public, as in the privacy notice. */
  controller: { name: string; orgNumber: string; contact: string; dpoContact: string; configured: boolean };
}

/**
 * POST /v1/session {token} → cookie; GET /v1/session → who is signed in (and the CSRF token);
 * DELETE /v1/session → signed out (and, for a person, where the provider signs them out too);
 * GET /v1/sign-in → which ways of signing in are open.
 */
export function sessionRoutes(deps: {
  sessions: Sessions;
  limiter: AuthFailureLimiter;
  failures: SignInFailures;
  refusals: RefusalLog;
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
        errors: p.error.issues.map((i) => ({ ...fieldErrorOf(i), pointer: '/' + (i.path.join('/') || 'token') })),
      });
    }
    let opened;
    try {
      opened = await deps.sessions.open(p.data.token, sessionSecretOf(req));
    } catch (err) {
      if (err instanceof Unauthenticated) {
        deps.refusals.unauthenticated({ route: 'sign-in', problem: err.code, status: 401, requestId: req.requestId, client: req.ip });
        // In memory per client and credential first (429 there spares the database), then per token
        // prefix in the database, shared by every instance.
        deps.limiter.recordFailure(req, p.data.token);
        if (await deps.failures.record(deps.failures.keyForToken(p.data.token))) {
          throw new TooManyRequests('too-many-failed-sign-ins', 'Too many failed sign-ins with this token; check it and try again later');
        }
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
        deps.logger.warn('could not reach the identity provider for sign-out', { requestId: req.requestId, err: errorFacts(err) });
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
