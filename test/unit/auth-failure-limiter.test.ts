import { expect } from 'chai';
import type { Request } from 'express';
import sinon from 'sinon';
import { TooManyRequests } from '../../src/shared/errors.js';
import { createAuthFailureLimiter } from '../../src/web/session.routes.js';

/** Just what the limiter reads of a request. */
function fakeRequest(ip: string, authorization?: string): Request {
  return { ip, method: 'POST', path: '/v1/opt-outs/check', get: (h: string) => (h.toLowerCase() === 'authorization' ? authorization : undefined) } as unknown as Request;
}

describe('the failed-authentication limiter', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: Date.parse('2026-11-23T10:00:00Z') });
  });
  afterEach(() => clock.restore());

  it('blocks an address with credentials once it reaches the limit, only that address, until its window resets', async () => {
    const limiter = createAuthFailureLimiter({ limit: 3, windowMs: 60_000 });
    try {
      const attacker = fakeRequest('192.0.2.1', 'Bearer glr_guess');
      for (let i = 0; i < 2; i++) await limiter.record(attacker);
      expect(() => limiter.refuseIfBlocked(attacker)).not.to.throw();
      await limiter.record(attacker);
      expect(() => limiter.refuseIfBlocked(attacker)).to.throw(TooManyRequests);
      // Another address, and a request without credentials from the same one, pass.
      expect(() => limiter.refuseIfBlocked(fakeRequest('192.0.2.2', 'Bearer glr_x'))).not.to.throw();
      expect(() => limiter.refuseIfBlocked(fakeRequest('192.0.2.1'))).not.to.throw();

      clock.tick(60_001);
      expect(() => limiter.refuseIfBlocked(attacker)).not.to.throw();
    } finally {
      limiter.shutdown();
    }
  });
});
