import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AccessTokens } from '../access-tokens/index.js';
import type { AuditLog } from '../audit-log/index.js';
import { widestRole, type Principal, type Role } from '../shared/principal.js';
import type { Clock } from '../shared/clock.js';
import { Unauthenticated } from '../shared/errors.js';
import type { OpenedSession, Person } from '../staff-sign-in/index.js';
import type { Tx } from '../shared/transaction.js';
import type { SessionsRepository } from './ports.js';

/** Where a person is kept (the users repository's `save`), inside the sign-in's transaction. */
export type SavePerson = (trx: Tx, p: Person, at: string) => Promise<void>;

const hashOf = (secret: string) => createHash('sha256').update(secret, 'utf8').digest('hex');

/**
 * The CSRF token of a session: derived from the cookie value, so it needs no storage and is worthless
 * without the cookie (which scripts cannot read: HttpOnly).
 */
const csrfTokenOf = (secret: string) => createHash('sha256').update('gallra-csrf\0' + secret, 'utf8').digest('base64url');

/** Used at most this often per session to move its idle deadline: not a write on every request. */
const TOUCH_EVERY_MS = 60_000;

/**
 * Browser sessions. A session is opened with an access token or for a person signed in with the
 * identity provider; its cookie value is random, and only the hash is kept. It ends when it is
 * closed, after `ttlMs` (absolute), after `idleMs` without use, or when its token is revoked.
 * Opening a session closes the one the browser had (the id is rotated at every sign-in). Opening and
 * closing are audited, naming the person (`user:<sub>`) or the token.
 */
export function createSessions(deps: { sessions: SessionsRepository; tokens: AccessTokens; audit: AuditLog; clock: Clock; ttlMs: number; idleMs: number; savePerson?: SavePerson }) {
  const { sessions, tokens, audit, clock } = deps;
  type Trx = Tx;

  async function closeIn(trx: Trx, secret: string, reason: 'signed-out' | 'replaced'): Promise<void> {
    const row = await sessions.findOpen(trx, hashOf(secret));
    if (!row) return;
    await sessions.close(trx, row.id, clock.now().toISOString());
    const actor = row.userId ? `user:${row.userId}` : `${row.tokenRole}:${row.tokenId}`;
    const details = row.userId ? { sessionId: row.id, reason } : { sessionId: row.id, tokenId: row.tokenId, ...(reason === 'replaced' ? { reason } : {}) };
    await audit.append(trx, { actor, action: 'session.closed', subject: `session:${row.id}`, details });
  }

  async function openIn(trx: Trx, owner: { tokenId: string | null; userId: string | null; roles: Role[] | null }, replacing?: string) {
    if (replacing) await closeIn(trx, replacing, 'replaced');
    const now = clock.now();
    const expiresAt = new Date(now.getTime() + deps.ttlMs);
    const sessionId = 'ses_' + randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    await sessions.insert(trx, {
      id: sessionId,
      secretHash: hashOf(secret),
      ...owner,
      createdAt: now.toISOString(),
      expiresAt: expiresAt.toISOString(),
      lastSeenAt: now.toISOString(),
    });
    return { sessionId, secret, expiresAt };
  }

  return {
    /** Exchanges an access token for a session; `replacing` is the browser's previous cookie value. */
    async open(token: string, replacing?: string): Promise<OpenedSession> {
      const principal = await tokens.authenticate(token);
      if (!principal) throw new Unauthenticated('invalid-credentials', 'The access token is not valid');
      const opened = await sessions.transaction(async (trx) => {
        const o = await openIn(trx, { tokenId: principal.id, userId: null, roles: null }, replacing);
        await audit.append(trx, {
          actor: `${principal.role}:${principal.id}`,
          action: 'session.opened',
          subject: `session:${o.sessionId}`,
          details: { sessionId: o.sessionId, tokenId: principal.id, expiresAt: o.expiresAt.toISOString() },
        });
        return o;
      });
      return { ...opened, principal: { ...principal, via: 'session' } };
    },

    /**
     * Opens a session for a person the identity provider vouched for, keeping their name (and roles)
     * up to date, and audits it with their name: the audit log then names people, not subjects.
     */
    async openForPerson(person: Person, replacing?: string): Promise<OpenedSession> {
      const role = widestRole(person.roles);
      if (!role) throw new Unauthenticated('no-role', 'The person holds no gallra role');
      const opened = await sessions.transaction(async (trx) => {
        await deps.savePerson?.(trx, person, clock.now().toISOString());
        const o = await openIn(trx, { tokenId: null, userId: person.sub, roles: person.roles }, replacing);
        await audit.append(trx, {
          actor: `user:${person.sub}`,
          action: 'session.opened',
          subject: `session:${o.sessionId}`,
          details: { sessionId: o.sessionId, via: 'oidc', name: person.name, roles: person.roles, expiresAt: o.expiresAt.toISOString() },
        });
        return o;
      });
      return { ...opened, principal: { id: person.sub, role, roles: person.roles, name: person.name, via: 'session', kind: 'person' } };
    },

    /**
     * The principal behind a cookie value, or undefined when it is unknown, closed, expired, idle for
     * too long, or its token revoked. Using it moves the idle deadline.
     */
    async resolve(secret: string): Promise<(Principal & { sessionId: string }) | undefined> {
      const now = clock.now();
      const row = await sessions.findActive(hashOf(secret), now.toISOString(), new Date(now.getTime() - deps.idleMs).toISOString());
      if (!row) return undefined;
      if (now.getTime() - Date.parse(row.lastSeenAt) >= TOUCH_EVERY_MS) await sessions.touch(row.id, now.toISOString());
      if (row.tokenId) return { id: row.tokenId, role: row.role!, name: row.name, via: 'session', sessionId: row.id };
      const role = widestRole(row.roles);
      if (!role) return undefined;
      return { id: row.userId!, role, roles: row.roles, name: row.name, via: 'session', kind: 'person', sessionId: row.id };
    },

    /** Ends the session behind a cookie value; closing an unknown or closed one does nothing. */
    async close(secret: string): Promise<void> {
      await sessions.transaction((trx) => closeIn(trx, secret, 'signed-out'));
    },

    /**
     * A person the identity provider vouched for, refused by gallra (no mapped role). Audited: the
     * provider bounds how often that can happen. Refusals of nobody in particular (a bad callback, a
     * wrong token) go to the refusal log instead, never to the audit log.
     */
    async recordRefusedPerson(input: { account: string; reason: string; method: string; path: string }): Promise<void> {
      await sessions.transaction((trx) =>
        audit.append(trx, { actor: `user:${input.account}`, action: 'auth.failed', subject: null, details: { via: 'oidc', method: input.method, path: input.path, reason: input.reason } }),
      );
    },

    csrfTokenOf,

    csrfTokenMatches(secret: string, presented: string): boolean {
      const want = Buffer.from(csrfTokenOf(secret));
      const got = Buffer.from(presented);
      return want.length === got.length && timingSafeEqual(want, got);
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;
