export { createSessions, type Sessions } from './sessions.js';
export type { SessionsRepository } from './ports.js';
export { createSessionsRepository } from './sessions-repository.js';
