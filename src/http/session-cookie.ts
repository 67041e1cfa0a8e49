import type { Request, Response } from 'express';

/**
 * The session cookie: HttpOnly, SameSite=Lax (the return from the identity provider is a top-level
 * navigation from another site, which a Strict cookie would miss), Secure and `__Host-`-prefixed
 * (bound to this host, path /, no Domain) whenever the request came over TLS.
 */
export const SESSION_COOKIE = 'gallra_session';
const HOST_SESSION_COOKIE = '__Host-gallra_session';

export const sessionCookieName = (req: Request) => (req.secure ? HOST_SESSION_COOKIE : SESSION_COOKIE);

export function setSessionCookie(req: Request, res: Response, secret: string, maxAgeMs: number): void {
  res.cookie(sessionCookieName(req), secret, { httpOnly: true, sameSite: 'lax', secure: req.secure, path: '/', maxAge: maxAgeMs });
}

export function clearSessionCookie(req: Request, res: Response): void {
  res.clearCookie(sessionCookieName(req), { httpOnly: true, sameSite: 'lax', secure: req.secure, path: '/' });
}

/** The session cookie's value in this request (the name the request's scheme calls for). */
export const sessionSecretOf = (req: Request) => cookieValue(req, sessionCookieName(req));

export function cookieValue(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim() || undefined;
  }
  return undefined;
}
