import { expect } from 'chai';
import request from 'supertest';
import { ManualClock } from '../../src/shared/clock.js';
import { createDatabase } from '../../src/shared/database.js';
import { startOidcTestApp, type OidcTestApp } from '../helpers/oidc-app.js';
import { CookieJar, signInAtProvider, step } from '../helpers/oidc-provider.js';
import { createPostgresDatabase } from '../helpers/postgres.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/** Two gallra instances on one PostgreSQL: sign-in state is the database's, not an instance's. */
describe('staff sign-in across instances on PostgreSQL', function () {
  this.timeout(60_000);
  let pg: { url: string; drop(): Promise<void> };
  let a: TestApp;
  let b: TestApp;
  before(async () => {
    pg = await createPostgresDatabase();
  });
  after(async () => pg?.drop());
  beforeEach(async () => {
    a = await startTestApp({ db: createDatabase(pg.url) });
    b = await startTestApp({ db: createDatabase(pg.url) });
    await a.db('sign_in_failures').delete();
  });
  afterEach(async () => {
    await a.close();
    await b.close();
  });

  it('counts failed sign-ins of one token prefix on both instances together, never losing a count under concurrency', async () => {
    const mistyped = (i: number) => `glr_Qwerty${'z'.repeat(30)}${i}`;
    const answers = await Promise.all(Array.from({ length: 9 }, (_, i) => request((i % 2 ? a : b).app).post('/v1/session').send({ token: mistyped(i) })));
    expect(answers.map((r) => r.status)).to.deep.equal(Array(9).fill(401));
    const [row] = await a.db('sign_in_failures').select('failures');
    expect(Number(row.failures)).to.equal(9);
    expect((await request(a.app).post('/v1/session').send({ token: mistyped(9) })).status).to.equal(429);
    expect((await request(b.app).post('/v1/session').send({ token: mistyped(10) })).status, 'the other instance knows').to.equal(429);
    expect((await request(b.app).post('/v1/session').send({ token: await b.token('trainer') })).status, 'a valid token still gets in').to.equal(201);
  });

  it('counts failures of one bearer token on both instances, whatever address each came from, and says when to retry', async () => {
    await a.close();
    await b.close();
    // Behind a proxy on this host: each guess names its own client address, so only the credential's count can refuse it.
    // The two instances' clocks agree, as NTP keeps real ones.
    const clock = new ManualClock();
    a = await startTestApp({ clock, db: createDatabase(pg.url), config: { trustProxy: ['loopback'] } });
    b = await startTestApp({ clock, db: createDatabase(pg.url), config: { trustProxy: ['loopback'] } });
    const guess = (i: number) =>
      request((i % 2 ? a : b).app).get('/v1/retention/overdue').set('Authorization', 'Bearer glr_the-same-stolen-guess').set('X-Forwarded-For', `203.0.113.${i}`);
    for (let i = 0; i < 9; i++) expect((await guess(i)).status).to.equal(401);
    const limited = await guess(9);
    expect(limited.status, 'the tenth failure, on the instance that saw only five').to.equal(429);
    expect(limited.headers['content-type']).to.match(/problem\+json/);
    expect(limited.headers['retry-after']).to.equal('900');
    expect((await request(b.app).get('/v1/retention/overdue').set('Authorization', `Bearer ${await b.token('admin')}`)).status, 'a valid token still works').to.equal(200);
  });

  it('counts refusals of one account on both instances', async () => {
    const key = a.services.signInFailures.keyForAccount('kalle');
    const blocked = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).services.signInFailures.record(key)));
    expect(blocked.filter(Boolean)).to.have.length(1);
    expect(await b.services.signInFailures.blocked(key)).to.equal(true);
    await a.services.signInFailures.clear(key);
    expect(await b.services.signInFailures.blocked(key)).to.equal(false);
  });
});

describe('OpenID Connect sign-in on PostgreSQL', function () {
  this.timeout(60_000);
  let pg: { url: string; drop(): Promise<void> };
  let o: OidcTestApp;
  before(async () => {
    pg = await createPostgresDatabase();
    o = await startOidcTestApp({}, { db: createDatabase(pg.url) });
  });
  after(async () => {
    await o?.close();
    await pg?.drop();
  });

  it('signs a person in, keeps their name, and a second instance honours the session', async () => {
    const jar = new CookieJar();
    const res = await step(jar, await signInAtProvider(jar, o.base, 'agnes.auditor'));
    expect(res.status).to.equal(303);
    const other = await startTestApp({ db: createDatabase(pg.url) });
    try {
      const me = await request(other.app).get('/v1/session').set('Cookie', `gallra_session=${jar.get(o.base, 'gallra_session')}`);
      expect(me.status).to.equal(200);
      expect(me.body).to.include({ name: 'Agnes Granskare', role: 'auditor' });
      const people = await request(other.app).get('/v1/people').set('Cookie', `gallra_session=${jar.get(o.base, 'gallra_session')}`);
      expect(people.body.items.map((p: { actor: string; name: string }) => [p.actor, p.name])).to.deep.equal([['user:agnes.auditor', 'Agnes Granskare']]);
    } finally {
      await other.close();
    }
  });
});
