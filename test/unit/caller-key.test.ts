import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import { createCallerKeys, normaliseNumber } from '../../src/shared/caller-key.js';

describe('caller keys', () => {
  const secret = 'c0ffee'.repeat(10) + 'åäö'; // non-ASCII on purpose: the key is the secret's UTF-8 bytes

  it('are HMAC-SHA256 keyed with the secret string exactly as before (existing opt-outs keep matching)', () => {
    const keys = createCallerKeys(secret);
    for (const e164 of ['+46701234567', '+46812345678', '+4520123456']) {
      expect(keys.ofE164(e164)).to.equal(createHmac('sha256', secret).update(e164, 'utf8').digest('hex'));
    }
  });

  it('are equal for every way of writing the same number', () => {
    const keys = createCallerKeys(secret);
    const expected = keys.ofE164('+46701234567');
    for (const n of ['070-123 45 67', '+46701234567', '0046701234567', '0701234567', '+46 70 123 45 67']) {
      expect(normaliseNumber(n), n).to.equal('+46701234567');
      expect(keys.of(n), n).to.equal(expected);
    }
  });
});
