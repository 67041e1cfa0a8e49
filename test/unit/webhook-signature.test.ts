import { expect } from 'chai';
import { Webhook } from 'standardwebhooks';
import { createWebhookVerifier, signWebhook } from '../../src/http/webhook-signature.js';
import { ManualClock } from '../../src/shared/clock.js';

const secret = 'whsec_' + Buffer.from('reference-library-secret-32bytes').toString('base64');
const other = 'whsec_' + Buffer.from('a-different-secret-of-32-bytes!!').toString('base64');

function verify(secrets: string[], clock: ManualClock, headers: Record<string, string>, body: Buffer | string): boolean {
  const check = createWebhookVerifier({ secrets, toleranceMs: 300_000, clock }).begin(headers);
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  // Feed in uneven pieces, as a stream would.
  for (let i = 0; i < bytes.length; i += 7) check.update(bytes.subarray(i, i + 7));
  return check.verify();
}

describe('Standard Webhooks signatures', () => {
  const clock = new ManualClock('2026-11-23T09:00:00Z');
  const ts = new Date('2026-11-23T09:00:00Z');

  it('accepts signatures made by the reference standardwebhooks library on text payloads', () => {
    const wh = new Webhook(secret);
    for (const payload of ['{"hello":"world"}', 'åäö — text with UTF-8', '']) {
      const sig = wh.sign('msg_1', ts, payload);
      const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(ts.getTime() / 1000), 'webhook-signature': sig };
      expect(verify([secret], clock, headers, payload)).to.equal(true);
      // and our signer produces exactly what the reference produces
      expect(signWebhook(secret, 'msg_1', ts.getTime() / 1000, payload)).to.equal(sig);
    }
  });

  it('signs and verifies binary bodies over the raw bytes (which the reference library cannot)', () => {
    const body = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28]);
    const sig = signWebhook(secret, 'msg_2', ts.getTime() / 1000, body);
    const headers = { 'webhook-id': 'msg_2', 'webhook-timestamp': String(ts.getTime() / 1000), 'webhook-signature': sig };
    expect(verify([secret], clock, headers, body)).to.equal(true);
    expect(verify([secret], clock, headers, Buffer.from(body.toString('utf8'), 'utf8'))).to.equal(false);
  });

  it('accepts any of several space-separated signatures, and any configured secret (rotation)', () => {
    const payload = 'rotation';
    const t = ts.getTime() / 1000;
    const headers = {
      'webhook-id': 'msg_3',
      'webhook-timestamp': String(t),
      'webhook-signature': `v1,${Buffer.alloc(32).toString('base64')} ${signWebhook(other, 'msg_3', t, payload)}`,
    };
    expect(verify([secret, other], clock, headers, payload)).to.equal(true);
    expect(verify([secret], clock, headers, payload)).to.equal(false);
  });

  it('refuses missing headers and timestamps more than five minutes off before reading the body', () => {
    const v = createWebhookVerifier({ secrets: [secret], toleranceMs: 300_000, clock });
    expect(() => v.begin({})).to.throw(/webhook-id, webhook-timestamp, webhook-signature/);
    const t = ts.getTime() / 1000;
    for (const skew of [-301, 301]) {
      const headers = { 'webhook-id': 'm', 'webhook-timestamp': String(t + skew), 'webhook-signature': signWebhook(secret, 'm', t + skew, '') };
      expect(() => v.begin(headers)).to.throw(/more than 300 s/);
    }
    const ok = { 'webhook-id': 'm', 'webhook-timestamp': String(t + 299), 'webhook-signature': signWebhook(secret, 'm', t + 299, '') };
    expect(() => v.begin(ok)).to.not.throw();
  });
});
