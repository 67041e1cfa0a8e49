import { createHmac, timingSafeEqual, type Hmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Clock } from '../shared/clock.js';
import { Unauthenticated } from '../shared/errors.js';

/**
 * Standard Webhooks: HMAC-SHA256 over `${webhook-id}.${webhook-timestamp}.` + raw body, keyed with the
 * base64 part of a `whsec_` secret, sent as space-separated `v1,<base64>` signatures. Verified while the
 * body streams past, for every configured secret at once (rotation), so the body is never held whole.
 */
export interface SignatureCheck {
  readonly webhookId: string;
  update(chunk: Buffer): void;
  /** True when any signature matches any secret. Call once, after the last byte. */
  verify(): boolean;
}

export function createWebhookVerifier(opts: { secrets: string[]; toleranceMs: number; clock: Clock }) {
  const keys = opts.secrets.map((s) => Buffer.from(s.replace(/^whsec_/, ''), 'base64'));
  return {
    /** Checks the headers before any body byte is read; throws Unauthenticated naming what is wrong. */
    begin(headers: IncomingHttpHeaders): SignatureCheck {
      const id = one(headers['webhook-id']);
      const ts = one(headers['webhook-timestamp']);
      const sig = one(headers['webhook-signature']);
      const missing = [!id && 'webhook-id', !ts && 'webhook-timestamp', !sig && 'webhook-signature'].filter(Boolean);
      if (missing.length) {
        throw new Unauthenticated('missing-signature', `Missing webhook header(s): ${missing.join(', ')}`);
      }
      if (!/^\d{1,12}$/.test(ts!)) throw new Unauthenticated('invalid-signature', 'webhook-timestamp must be Unix seconds');
      const skew = Math.abs(opts.clock.now().getTime() - Number(ts) * 1000);
      if (skew > opts.toleranceMs) {
        throw new Unauthenticated('stale-signature', `webhook-timestamp is more than ${Math.round(opts.toleranceMs / 1000)} s from the server's time`);
      }
      const offered = sig!
        .split(' ')
        .filter((s) => s.startsWith('v1,'))
        .map((s) => Buffer.from(s.slice(3), 'base64'))
        .filter((b) => b.length === 32);
      if (!offered.length) throw new Unauthenticated('invalid-signature', 'webhook-signature has no v1 signature');
      const macs: Hmac[] = keys.map((k) => createHmac('sha256', k).update(`${id}.${ts}.`));
      let done = false;
      return {
        webhookId: id!,
        update(chunk) {
          for (const m of macs) m.update(chunk);
        },
        verify() {
          if (done) throw new Error('verify() called twice');
          done = true;
          const expected = macs.map((m) => m.digest());
          // Compare every pair, constant-time per pair.
          let ok = false;
          for (const e of expected) for (const o of offered) ok = timingSafeEqual(e, o) || ok;
          return ok;
        },
      };
    },
  };
}

export type WebhookVerifier = ReturnType<typeof createWebhookVerifier>;

/** Signs a body the same way (scripts/send-recording and tests). */
export function signWebhook(secret: string, id: string, timestampSec: number, body: Buffer | string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const mac = createHmac('sha256', key).update(`${id}.${timestampSec}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
