import { expect } from 'chai';
import sinon from 'sinon';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { TooManyRequests } from '../../src/shared/errors.js';
import { createSignInFailures } from '../../src/staff-sign-in/index.js';

/** rate-limiter-flexible's memory limiter reads Date.now() and sets timers: both are sinon's here. */
describe('the failed-credential limiter', () => {
  let clock: sinon.SinonFakeTimers;
  let consumed: string[];
  const limiter = (limit = 3) =>
    createSignInFailures({
      limit,
      windowMs: 60_000,
      // The shared store in memory, watched: which credentials reached it.
      store: (limits) => {
        const store = new RateLimiterMemory(limits);
        const consume = store.consume.bind(store);
        store.consume = (key, points, options) => (consumed.push(String(key)), consume(key, points, options));
        return store;
      },
    });
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: Date.parse('2026-11-23T10:00:00Z'), toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    consumed = [];
  });
  afterEach(() => clock.restore());

  async function refusal(p: Promise<void>): Promise<TooManyRequests | undefined> {
    try {
      await p;
      return undefined;
    } catch (e) {
      if (e instanceof TooManyRequests) return e;
      throw e;
    }
  }

  it('answers 429 with the seconds to wait to failures from an address over the limit, only from that address, until its window resets', async () => {
    const l = limiter();
    for (let i = 0; i < 3; i++) expect(await refusal(l.failed({ address: '192.0.2.1', credential: l.keyForPresented(`glr_guess-${i}`) }))).to.equal(undefined);
    clock.tick(20_000);
    const refused = await refusal(l.failed({ address: '192.0.2.1', credential: l.keyForPresented('glr_guess-3') }));
    expect(refused?.code).to.equal('too-many-failed-sign-ins');
    expect(refused?.details.retryAfterSeconds).to.equal(40);
    expect(await refusal(l.failed({ address: '192.0.2.2', credential: l.keyForPresented('glr_other') }))).to.equal(undefined);
    clock.tick(40_001);
    expect(await refusal(l.failed({ address: '192.0.2.1', credential: l.keyForPresented('glr_guess-4') }))).to.equal(undefined);
  });

  it('spends no write on the shared store once an address is over its limit: a flood of forged credentials costs memory only', async () => {
    const l = limiter();
    for (let i = 0; i < 1_000; i++) await refusal(l.failed({ address: '192.0.2.1', credential: l.keyForPresented(`glr_forged-${i}`) }));
    expect(consumed).to.have.length(3);
  });

  it('counts a credential across addresses in the shared store: rotating the address buys no more guesses, and its limit-th failure is refused', async () => {
    const l = limiter();
    const same = l.keyForToken('glr_same-guess');
    for (let i = 0; i < 2; i++) expect(await refusal(l.failed({ address: `198.51.100.${i}`, credential: same }))).to.equal(undefined);
    expect(await refusal(l.failed({ address: '198.51.100.200', credential: same }))).to.be.instanceOf(TooManyRequests);
    expect(await l.blocked(same)).to.equal(true);
    expect(await refusal(l.failed({ address: '198.51.100.201', credential: l.keyForToken('glr_a-different-one') }))).to.equal(undefined);
  });

  it('counts an account without an address (single sign-on), and a success forgets its failures', async () => {
    const l = limiter();
    const kalle = l.keyForAccount('kalle');
    expect([await l.record(kalle), await l.record(kalle), await l.record(kalle), await l.record(kalle)]).to.deep.equal([false, false, true, true]);
    await l.clear(kalle);
    expect(await l.blocked(kalle)).to.equal(false);
    expect(await l.record(kalle)).to.equal(false);
  });

  it('names a token by its first characters only and an account by hash: no credential in a key', () => {
    const l = limiter();
    expect(l.keyForToken('glr_AbCdEf-typo-1')).to.equal(l.keyForToken('glr_AbCdEf-typo-2'));
    for (const k of [l.keyForToken('glr_AbCdEf'), l.keyForPresented('glr_AbCdEf'), l.keyForAccount('kalle')]) expect(k).to.match(/^[0-9a-f]{64}$/);
  });
});
