import { expect } from 'chai';
import type { Request } from 'express';
import { TooManyRequests } from '../../src/shared/errors.js';
import { createAuthFailureLimiter } from '../../src/web/session.routes.js';

/** Just what the limiter reads of a request. */
function fakeRequest(ip: string): Request {
  return { ip, method: 'POST', path: '/v1/opt-outs/check', get: () => undefined } as unknown as Request;
}

describe('the failed-credential limiter', () => {
  let t: number;
  const limiter = (limit = 3) => createAuthFailureLimiter({ limit, windowMs: 60_000, now: () => t });
  beforeEach(() => {
    t = Date.parse('2026-11-23T10:00:00Z');
  });

  it('answers 429 to failures from an address over the limit, and only from that address, until its window resets', () => {
    const l = limiter();
    const attacker = fakeRequest('192.0.2.1');
    for (let i = 0; i < 3; i++) expect(() => l.recordFailure(attacker, `glr_guess-${i}`)).not.to.throw();
    expect(() => l.recordFailure(attacker, 'glr_guess-3')).to.throw(TooManyRequests);
    expect(() => l.recordFailure(fakeRequest('192.0.2.2'), 'glr_other')).not.to.throw();
    t += 60_001;
    expect(() => l.recordFailure(attacker, 'glr_guess-4')).not.to.throw();
  });

  it('counts what was presented across addresses: rotating the address does not buy more guesses at one credential', () => {
    const l = limiter();
    for (let i = 0; i < 3; i++) l.recordFailure(fakeRequest(`198.51.100.${i}`), 'glr_same-guess');
    expect(() => l.recordFailure(fakeRequest('198.51.100.200'), 'glr_same-guess')).to.throw(TooManyRequests);
    expect(() => l.recordFailure(fakeRequest('198.51.100.201'), 'glr_a-different-one')).not.to.throw();
  });

  it('stays bounded in memory under a flood of distinct addresses and credentials', () => {
    const l = createAuthFailureLimiter({ limit: 3, windowMs: 60_000, now: () => t, maxKeys: 1_000 });
    for (let i = 0; i < 5_000; i++) l.recordFailure(fakeRequest(`10.0.${i >> 8}.${i & 255}`), `glr_${i}`);
    // The newest address is still counted.
    const last = fakeRequest('10.0.19.135');
    l.recordFailure(last, 'x');
    l.recordFailure(last, 'y');
    expect(() => l.recordFailure(last, 'z')).to.throw(TooManyRequests);
  });
});
