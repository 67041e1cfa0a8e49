export { createSessions, type Sessions, type Person, type OpenedSession } from './sessions.js';
export { createSessionsRepository, type SessionsRepository } from './sessions-repository.js';
export { sessionRoutes, sessionResolver, createAuthFailureLimiter, onAuthFailure, type SignInOptions } from './session.routes.js';
export { SESSION_COOKIE, sessionSecretOf, setSessionCookie, clearSessionCookie, cookieValue } from './session-cookie.js';
export { webRoutes, WEB_CSP } from './web.routes.js';
