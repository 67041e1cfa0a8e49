import { createHmac } from 'node:crypto';
import type { AuditLog } from '../audit-log/index.js';
import type { Clock } from '../shared/clock.js';
import { DomainError } from '../shared/errors.js';
import type { Transact } from '../shared/transaction.js';
import type { SecretFingerprintRepository } from './ports.js';

/** The secrets whose fingerprints the database keeps, by configuration variable. */
export interface SharedSecrets {
  CALLER_KEY_SECRET?: string;
  WEBHOOK_SECRETS?: string[];
}

/**
 * HMAC-SHA256 keyed with the secret over a constant that names the variable: equal for equal secrets,
 * and no help in finding the secret (nor a caller key: the constant is no phone number).
 */
export function secretFingerprint(variable: keyof SharedSecrets, secret: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(`gallra secret fingerprint v1: ${variable}`, 'utf8').digest('hex');
}

/** This process's secret is not the one the database's other instances use: it must not start. */
export class SecretMismatch extends DomainError {}

const WHY: Record<keyof SharedSecrets, string> = {
  CALLER_KEY_SECRET:
    'CALLER_KEY_SECRET is not the secret this database was started with (its fingerprint differs): no opt-out registered under the other would match here. Start with the same secret as every other instance (docs/operations.md)',
  WEBHOOK_SECRETS:
    'WEBHOOK_SECRETS shares no secret with those this database was last started with (no fingerprint matches): the phone system’s signed calls would be refused here or there. Give the same secrets as the other instances; to rotate, add the new one beside the old first (docs/operations.md)',
};

/**
 * Checks at start that this process holds the same caller-key and webhook secrets as every instance
 * before it on this database, and registers them on the first start. The caller-key secret never
 * changes (opt-outs are stored under it). Webhook secrets rotate: the configured list must share one
 * secret with the registered list, which then becomes the configured one. Each registration is audited.
 */
export function createSecretFingerprints(deps: { fingerprints: SecretFingerprintRepository; transaction: Transact; audit: AuditLog; clock: Clock }) {
  const { fingerprints, transaction, audit, clock } = deps;
  return {
    /** Throws SecretMismatch naming the variable; registers (and audits) fingerprints not yet known. */
    async verify(secrets: SharedSecrets, actor = 'system:start'): Promise<void> {
      await transaction(async (tx) => {
        await fingerprints.lock(tx);
        const at = clock.now().toISOString();
        for (const variable of ['CALLER_KEY_SECRET', 'WEBHOOK_SECRETS'] as const) {
          const given = secrets[variable];
          if (given === undefined) continue;
          const configured = [...new Set((Array.isArray(given) ? given : [given]).map((s) => secretFingerprint(variable, s)))].sort();
          const registered = await fingerprints.of(variable, tx);
          if (!registered.length) {
            await fingerprints.replace(tx, variable, configured, at);
            await audit.append(tx, { actor, action: 'secrets.registered', subject: null, details: { variable, secrets: configured.length, reason: 'first start' } });
            continue;
          }
          const shared = configured.filter((f) => registered.includes(f));
          const same = shared.length === configured.length && configured.length === registered.length;
          if (variable === 'CALLER_KEY_SECRET' ? !same : !shared.length) {
            throw new SecretMismatch('secret-mismatch', WHY[variable], { variable });
          }
          if (!same) {
            await fingerprints.replace(tx, variable, configured, at);
            await audit.append(tx, {
              actor,
              action: 'secrets.registered',
              subject: null,
              details: { variable, secrets: configured.length, reason: 'rotation', added: configured.length - shared.length, removed: registered.length - shared.length },
            });
          }
        }
      });
    },
  };
}

export type SecretFingerprints = ReturnType<typeof createSecretFingerprints>;
