export { createSessions, type Sessions, type Person, type OpenedSession } from './sessions.js';
export { createSessionsRepository, type SessionsRepository } from './sessions-repository.js';
