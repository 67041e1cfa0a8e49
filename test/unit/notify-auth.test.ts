import { createHash } from 'node:crypto';
import { expect } from 'chai';
import twilio from 'twilio';
import { Unauthenticated } from '../../src/shared/errors.js';
import { authenticateNotification, formFields, type NotifyBody } from '../../src/sources/notify-auth.js';
import type { NotifySourceConfig } from '../../src/sources/index.js';

const TOKEN = 'auth-token-for-tests';
const PUBLIC = 'https://gallra.kommun.example/v1/sources/twilio/notify';
const config = { platform: 'twilio', publicUrl: PUBLIC, authToken: TOKEN } as NotifySourceConfig;

const form = (fields: Record<string, string | string[]>): NotifyBody => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const x of [v].flat()) p.append(k, x);
  const raw = Buffer.from(p.toString());
  return { contentType: 'application/x-www-form-urlencoded', raw, form: formFields(raw), query: '' };
};
const ok = (headers: Record<string, string>, body: NotifyBody) => {
  try {
    authenticateNotification(config, headers, body);
    return true;
  } catch (err) {
    expect(err).to.be.instanceOf(Unauthenticated);
    return false;
  }
};

/** gallra's check of X-Twilio-Signature against signatures made by the twilio package. */
describe('Twilio notification signatures (signed by the twilio package)', () => {
  it('accepts form fields in any order, repeated fields and characters that need encoding', () => {
    const fields = { RecordingSid: 'RE' + 'b'.repeat(32), CallSid: 'CA' + 'c'.repeat(32), Note: 'åäö & = ?', Multi: ['2', '1'] };
    const sig = twilio.getExpectedTwilioSignature(TOKEN, PUBLIC, fields);
    expect(ok({ 'x-twilio-signature': sig }, form(fields))).to.equal(true);
    expect(ok({ 'x-twilio-signature': sig }, form({ ...fields, Note: 'changed' }))).to.equal(false);
    expect(ok({ 'x-twilio-signature': twilio.getExpectedTwilioSignature('other', PUBLIC, fields) }, form(fields))).to.equal(false);
  });

  it('checks the SHA-256 variant only when the settings header names it', () => {
    const fields = { A: '1' };
    const sha256 = twilio.getExpectedTwilioSignature(TOKEN, PUBLIC, fields, 'HMAC_SHA256');
    expect(ok({ 'x-twilio-signature': sha256, 'x-twilio-webhooks-signature-settings': 'key=webhooks_sharedkey_x,algorithm=HMAC_SHA256' }, form(fields))).to.equal(true);
    expect(ok({ 'x-twilio-signature': sha256 }, form(fields))).to.equal(false);
    expect(ok({ 'x-twilio-signature': sha256, 'x-twilio-webhooks-signature-settings': 'algorithm=HMAC_MD5' }, form(fields))).to.equal(false);
  });

  it('checks a JSON body by its bodySHA256 in the URL Twilio called', () => {
    const json = Buffer.from(JSON.stringify({ RecordingSid: 'RE' + 'd'.repeat(32) }));
    const query = `bodySHA256=${createHash('sha256').update(json).digest('hex')}`;
    const sig = twilio.getExpectedTwilioSignature(TOKEN, `${PUBLIC}?${query}`, {});
    expect(twilio.validateRequestWithBody(TOKEN, sig, `${PUBLIC}?${query}`, json.toString())).to.equal(true);
    const body = (raw: Buffer): NotifyBody => ({ contentType: 'application/json', raw, form: null, query });
    expect(ok({ 'x-twilio-signature': sig }, body(json))).to.equal(true);
    expect(ok({ 'x-twilio-signature': sig }, body(Buffer.from(json.toString().replace('d', 'e'))))).to.equal(false);
  });
});
