import { createHash, randomBytes } from 'node:crypto';
import type { AccessTokens } from '../access-tokens/index.js';
import type { AuditLog } from '../audit-log/index.js';
import type { Principal } from '../shared/principal.js';
import type { Clock } from '../shared/clock.js';
import { Unauthenticated } from '../shared/errors.js';
import type { Transact } from '../shared/transaction.js';
import type { SessionRepository } from './session-repository.js';

export interface OpenedSession {
  /** The cookie value: shown to the browser once, only its hash is kept. */
  secret: string;
  sessionId: string;
  expiresAt: Date;
  principal: Principal;
}

const hashOf = (secret: string) => createHash('sha256').update(secret, 'utf8').digest('hex');

/**
 * Browser sessions: an access token is exchanged once for a random cookie value that expires after
 * `ttlMs` (absolute, not sliding, so a forgotten browser does not stay signed in). A session ends when
 * it expires, is closed, or its token is revoked. Opening and closing are audited.
 */
export function createSessions(deps: { sessions: SessionRepository; transaction: Transact; tokens: AccessTokens; audit: AuditLog; clock: Clock; ttlMs: number }) {
  const { sessions, transaction, tokens, audit, clock } = deps;
  return {
    async open(token: string): Promise<OpenedSession> {
      const principal = await tokens.authenticate(token);
      if (!principal) throw new Unauthenticated('invalid-credentials', 'The access token is not valid');
      const now = clock.now();
      const expiresAt = new Date(now.getTime() + deps.ttlMs);
      const sessionId = 'ses_' + randomBytes(8).toString('hex');
      const secret = randomBytes(32).toString('base64url');
      await transaction(async (tx) => {
        await sessions.insert(tx, { id: sessionId, secretHash: hashOf(secret), tokenId: principal.id, createdAt: now.toISOString(), expiresAt: expiresAt.toISOString() });
        await audit.append(tx, {
          actor: `${principal.role}:${principal.id}`,
          action: 'session.opened',
          subject: `session:${sessionId}`,
          details: { sessionId, tokenId: principal.id, expiresAt: expiresAt.toISOString() },
        });
      });
      return { secret, sessionId, expiresAt, principal: { ...principal, via: 'session' } };
    },

    /** The principal behind a cookie value, or undefined when it is unknown, expired, closed or its token revoked. */
    async resolve(secret: string): Promise<(Principal & { sessionId: string }) | undefined> {
      const live = await sessions.findLive(hashOf(secret), clock.now().toISOString());
      if (!live) return undefined;
      return { id: live.tokenId, role: live.role, name: live.name, via: 'session', sessionId: live.sessionId };
    },

    /** Ends the session behind a cookie value; closing an unknown or closed one does nothing. */
    async close(secret: string): Promise<void> {
      await transaction(async (tx) => {
        const open = await sessions.findOpen(tx, hashOf(secret));
        if (!open) return;
        await sessions.close(tx, open.sessionId, clock.now().toISOString());
        await audit.append(tx, {
          actor: `${open.role}:${open.tokenId}`,
          action: 'session.closed',
          subject: `session:${open.sessionId}`,
          details: { sessionId: open.sessionId, tokenId: open.tokenId },
        });
      });
    },

  };
}

export type Sessions = ReturnType<typeof createSessions>;
