import { Router, type Request } from 'express';
import { z } from 'zod';
import type { PrincipalResolver } from '../http/auth.js';
import type { Principal } from '../http/types.js';
import { Forbidden, InvalidInput, Unauthenticated } from '../shared/errors.js';
import type { RefusalLog } from '../http/refusals.js';
import { errorFacts, type Logger } from '../shared/logger.js';
import { fieldErrorOf } from '../shared/field-errors.js';
import type { SignInFailures } from '../staff-sign-in/index.js';
import { clearSessionCookie, sessionSecretOf, setSessionCookie } from '../http/session-cookie.js';
import type { Sessions } from './sessions.js';

/**
 * The `onFailure` hook for `authenticate`: counts the failure (429 once over the limit). Nobody was
 * authenticated, so it is counted and logged at a bounded rate, never audited.
 */
export function onAuthFailure(failures: SignInFailures, refusals: RefusalLog) {
  return async (req: Request): Promise<void> => {
    const presented = bearerTokenOf(req);
    try {
      await failures.failed({ address: req.ip ?? 'unknown', credential: presented ? failures.keyForPresented(presented) : undefined });
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
        // In memory per client address first (429 there spares the database), then per token prefix
        // in the database, shared by every instance.
        await deps.failures.failed({ address: req.ip ?? 'unknown', credential: deps.failures.keyForToken(p.data.token) });
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
