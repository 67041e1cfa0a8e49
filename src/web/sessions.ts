import { createHash, randomBytes } from 'node:crypto';
import type { AccessTokens } from '../access-tokens/index.js';
import type { AuditLog } from '../audit-log/index.js';
import type { Principal } from '../shared/principal.js';
import type { Clock } from '../shared/clock.js';
import type { Database } from '../shared/database.js';
import { Unauthenticated } from '../shared/errors.js';

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
export function createSessions(deps: { db: Database; tokens: AccessTokens; audit: AuditLog; clock: Clock; ttlMs: number }) {
  const { db, tokens, audit, clock } = deps;
  return {
    async open(token: string): Promise<OpenedSession> {
      const principal = await tokens.authenticate(token);
      if (!principal) throw new Unauthenticated('invalid-credentials', 'The access token is not valid');
      const now = clock.now();
      const expiresAt = new Date(now.getTime() + deps.ttlMs);
      const sessionId = 'ses_' + randomBytes(8).toString('hex');
      const secret = randomBytes(32).toString('base64url');
      await db.transaction(async (trx) => {
        await trx('sessions').insert({
          id: sessionId,
          secret_hash: hashOf(secret),
          token_id: principal.id,
          created_at: now.toISOString(),
          expires_at: expiresAt.toISOString(),
          closed_at: null,
        });
        await audit.append(trx, {
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
      const row = await db('sessions as s')
        .join('access_tokens as t', 't.id', 's.token_id')
        .where('s.secret_hash', hashOf(secret))
        .whereNull('s.closed_at')
        .whereNull('t.revoked_at')
        .where('s.expires_at', '>', clock.now().toISOString())
        .first('s.id as session_id', 't.id as token_id', 't.role', 't.name');
      if (!row) return undefined;
      return { id: row.token_id, role: row.role, name: row.name, via: 'session', sessionId: row.session_id };
    },

    /** Ends the session behind a cookie value; closing an unknown or closed one does nothing. */
    async close(secret: string): Promise<void> {
      await db.transaction(async (trx) => {
        const row = await trx('sessions as s').join('access_tokens as t', 't.id', 's.token_id').where('s.secret_hash', hashOf(secret)).whereNull('s.closed_at').first('s.id', 't.id as token_id', 't.role');
        if (!row) return;
        await trx('sessions').where({ id: row.id }).update({ closed_at: clock.now().toISOString() });
        await audit.append(trx, { actor: `${row.role}:${row.token_id}`, action: 'session.closed', subject: `session:${row.id}`, details: { sessionId: row.id, tokenId: row.token_id } });
      });
    },

  };
}

export type Sessions = ReturnType<typeof createSessions>;
