import { expect } from 'chai';
import sinon from 'sinon';
import request from 'supertest';
import { TOKEN_CACHE_TTL_MS } from '../../src/access-tokens/index.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

describe('bearer token lookups are cached briefly, revocation still takes effect', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(async () => {
    sinon.restore();
    await t.close();
  });

  it('refuses a token at once after it is revoked, although it was just used', async () => {
    const { token, accessToken } = await t.services.tokens.create({ role: 'phone-system', name: 'ivr' }, 'system:test');
    const check = () => request(t.app).post('/v1/opt-outs/check').set('Authorization', `Bearer ${token}`).send({ number: '+46701234567' });
    expect((await check()).status).to.equal(200);
    expect((await check()).status).to.equal(200);
    await t.services.tokens.revoke(accessToken.id, 'system:test');
    expect((await check()).status).to.equal(401);
  });

  it('asks the database again once the cache lifetime has passed, and refuses a revoked token at once', async () => {
    const clock = sinon.useFakeTimers({ toFake: ['performance'] });
    const { token, accessToken } = await t.services.tokens.create({ role: 'phone-system', name: 'ivr' }, 'system:test');
    const queries: string[] = [];
    t.db.on('query', (q: { sql: string }) => queries.push(q.sql));
    const lookups = () => queries.filter((q) => q.includes('access_tokens')).length;
    expect((await t.services.tokens.authenticate(token))?.id).to.equal(accessToken.id);
    expect((await t.services.tokens.authenticate(token))?.id).to.equal(accessToken.id);
    expect(lookups(), 'within the cache lifetime').to.equal(1);
    clock.tick(TOKEN_CACHE_TTL_MS + 1);
    expect((await t.services.tokens.authenticate(token))?.id).to.equal(accessToken.id);
    expect(lookups(), 'after the cache lifetime').to.equal(2);
    await t.services.tokens.revoke(accessToken.id, 'system:test');
    expect(await t.services.tokens.authenticate(token), 'after revocation').to.equal(undefined);
  });

  it('asks the database once for repeated requests with the same token within the cache lifetime', async () => {
    const { token } = await t.services.tokens.create({ role: 'admin', name: 'ops' }, 'system:test');
    const queries: string[] = [];
    t.db.on('query', (q: { sql: string }) => queries.push(q.sql));
    for (let i = 0; i < 5; i++) expect((await t.services.tokens.authenticate(token))?.role).to.equal('admin');
    expect(queries.filter((q) => q.includes('access_tokens'))).to.have.length(1);
    expect(await t.services.tokens.authenticate('glr_unknown')).to.equal(undefined);
  });
});
