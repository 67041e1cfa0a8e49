export { createSessions, type Sessions } from './sessions.js';
export { createSessionsRepository, type SessionsRepository } from './sessions-repository.js';
