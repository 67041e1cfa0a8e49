export { createSessions, type Sessions } from './sessions.js';
export { sessionRoutes, sessionResolver, createAuthFailureLimiter, onAuthFailure, SESSION_COOKIE } from './session.routes.js';
export { webRoutes, WEB_CSP } from './web.routes.js';
