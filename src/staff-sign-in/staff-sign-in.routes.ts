import { Router, type Request, type Response } from 'express';
import type { AccessToken } from '../access-tokens/index.js';
import { requireRole } from '../http/auth.js';
import type { RefusalLog } from '../http/refusals.js';
import { cookieValue, sessionSecretOf, setSessionCookie } from '../http/session-cookie.js';
import type { SignInTransaction } from './identity-provider.js';
import type { StaffSignIn } from './staff-sign-in.js';
import type { UsersRepository } from './ports.js';

/** Holds state, nonce and PKCE verifier between sending the browser to the provider and its return. */
const TRANSACTION_COOKIE = 'gallra_sign_in';
const TRANSACTION_PATH = '/auth';
const TRANSACTION_TTL_MS = 10 * 60_000;

/**
 * GET /v1/people → the names behind actors, for the audit log and reports: `user:<sub>` (staff signed
 * in with the identity provider) and `<role>:<token id>` (access tokens, revoked ones included, since
 * the log still names them).
 */
export function peopleRoutes(deps: { users: UsersRepository; tokens: { list(): Promise<AccessToken[]> } }): Router {
  const router = Router();
  router.get('/v1/people', requireRole('auditor', 'admin'), async (_req, res) => {
    const [people, tokens] = await Promise.all([deps.users.list(), deps.tokens.list()]);
    res.set('Cache-Control', 'no-store').json({
      items: [
        ...people.map((u) => ({ actor: `user:${u.id}`, kind: 'person' as const, name: u.name, roles: u.roles, lastSignedInAt: u.lastSignedInAt })),
        ...tokens.map((k) => ({ actor: `${k.role}:${k.id}`, kind: 'token' as const, name: k.name, roles: [k.role], lastSignedInAt: k.lastUsedAt })),
      ],
    });
  });
  return router;
}

/**
 * GET /auth/sign-in → the provider; GET /auth/callback → a session and the interface, or a page in
 * Swedish saying why not.
 */
export function staffSignInRoutes(deps: { signIn: StaffSignIn; refusals: RefusalLog; redirectUrl: string; ttlMs: number }): Router {
  const router = Router();

  router.get('/auth/sign-in', async (req, res) => {
    const { url, transaction } = await deps.signIn.begin();
    res.cookie(TRANSACTION_COOKIE, Buffer.from(JSON.stringify(transaction)).toString('base64url'), {
      httpOnly: true,
      // Lax: the cookie must come back with the provider's top-level redirect to the callback.
      sameSite: 'lax',
      secure: req.secure,
      path: TRANSACTION_PATH,
      maxAge: TRANSACTION_TTL_MS,
    });
    res.set('Cache-Control', 'no-store').redirect(303, url);
  });

  router.get('/auth/callback', async (req, res) => {
    const transaction = transactionOf(req);
    res.clearCookie(TRANSACTION_COOKIE, { httpOnly: true, sameSite: 'lax', secure: req.secure, path: TRANSACTION_PATH });
    res.set('Cache-Control', 'no-store');
    if (!transaction) {
      deps.refusals.unauthenticated({ route: 'oidc-callback', problem: 'no-sign-in-started', status: 400, requestId: req.requestId, client: req.ip });
      return void page(res, 400, PAGES.noTransaction);
    }
    // The URL the provider redirected to, as registered (not as rebuilt from Host headers).
    const callbackUrl = new URL(deps.redirectUrl);
    callbackUrl.search = new URL(req.originalUrl, 'http://gallra.invalid').search;
    const r = await deps.signIn.finish(callbackUrl, transaction, sessionSecretOf(req));
    switch (r.outcome) {
      case 'signed-in':
        setSessionCookie(req, res, r.session.secret, deps.ttlMs);
        return void res.redirect(303, '/');
      case 'no-role':
        return void page(res, 403, PAGES.noRole(r.name));
      case 'too-many-failures':
        return void page(res, 429, PAGES.tooMany(r.name));
      case 'rejected':
        deps.refusals.unauthenticated({ route: 'oidc-callback', problem: r.reason, status: 400, requestId: req.requestId, client: req.ip });
        return void page(res, 400, PAGES.rejected);
    }
  });

  return router;
}

function transactionOf(req: Request): SignInTransaction | undefined {
  const raw = cookieValue(req, TRANSACTION_COOKIE);
  if (!raw) return undefined;
  try {
    const t = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<SignInTransaction>;
    if (typeof t.state === 'string' && typeof t.nonce === 'string' && typeof t.codeVerifier === 'string') return { state: t.state, nonce: t.nonce, codeVerifier: t.codeVerifier };
  } catch {
    // A mangled cookie is no transaction.
  }
  return undefined;
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

interface PageText {
  title: string;
  body: string[];
  retry: boolean;
}

const PAGES = {
  noRole: (name: string): PageText => ({
    title: 'Du har inte behörighet till Gallra',
    body: [
      `Du är inloggad med kommunens konto som ${escape(name)}, men kontot tillhör ingen av de grupper som ger tillgång till Gallra (utbildare, granskare eller administratör).`,
      'Be din chef eller kommunens IT-avdelning om behörighet. Försöket har loggats.',
    ],
    retry: false,
  }),
  tooMany: (name: string): PageText => ({
    title: 'För många inloggningsförsök',
    body: [`Kontot ${escape(name)} har nekats för många gånger i rad. Vänta en stund innan du försöker igen.`],
    retry: false,
  }),
  rejected: {
    title: 'Inloggningen kunde inte slutföras',
    body: ['Svaret från inloggningstjänsten gick inte att verifiera: det kan vara för gammalt, redan använt eller inte ha startats här. Försöket har loggats.'],
    retry: true,
  } satisfies PageText,
  noTransaction: {
    title: 'Inloggningen kunde inte slutföras',
    body: ['Inloggningen startades inte från Gallra i den här webbläsaren, eller tog för lång tid. Börja om från startsidan.'],
    retry: true,
  } satisfies PageText,
};

/** A small page in Swedish (the interface's language) explaining why sign-in ended without a session. */
function page(res: Response, status: number, p: PageText): void {
  const retry = p.retry ? '<a class="button" href="/auth/sign-in">Logga in igen</a> ' : '';
  res
    .status(status)
    .type('html')
    .send(
      `<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${p.title} – Gallra</title><link rel="stylesheet" href="/style.css"></head>
<body><header><span class="brand">Gallra</span></header>
<main id="main"><h1>${p.title}</h1>${p.body.map((b) => `<p>${b}</p>`).join('')}
<p>${retry}<a href="/">Till startsidan</a></p></main></body></html>
`,
    );
}
