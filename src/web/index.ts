export { createSessions, type Sessions } from './sessions.js';
export { createSessionRepository, type SessionRepository } from './session-repository.js';
