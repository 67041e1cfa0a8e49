import { Validator } from '@seriousme/openapi-schema-validator';
import { expect } from 'chai';
import sinon from 'sinon';
import request from 'supertest';
import { checkAgainstOpenApi } from '../helpers/openapi-check.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

describe('/openapi.json', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(async () => {
    sinon.restore();
    await t.close();
  });

  it('is a valid OpenAPI 3.1 document describing every route', async () => {
    const res = await request(t.app).get('/openapi.json');
    expect(res.status).to.equal(200);
    expect(res.body.openapi).to.equal('3.1.0');
    const verdict = await new Validator().validate(res.body);
    expect(verdict.errors, JSON.stringify(verdict.errors)).to.equal(undefined);
    expect(verdict.valid).to.equal(true);
    for (const path of ['/v1/recordings', '/v1/recordings/{id}/audio', '/v1/opt-outs/check', '/v1/audit', '/v1/subject-requests/{id}/erase', '/metrics']) expect(res.body.paths).to.have.property(path);
    // The webhook's metadata comes from the route's own zod schema.
    expect(res.body.paths['/v1/recordings'].post.requestBody.content['multipart/form-data'].schema.properties.metadata.required).to.include('callId');
  });

  it('catches a response that does not match it (the check the component tests rely on)', () => {
    expect(checkAgainstOpenApi('POST', '/v1/opt-outs/check', 200, 'application/json', Buffer.from('{"optedOut":"yes"}'))).to.match(/optedOut|boolean/);
    expect(checkAgainstOpenApi('POST', '/v1/opt-outs/check', 418, 'application/json', Buffer.from('{}'))).to.match(/status is not described/);
    expect(checkAgainstOpenApi('GET', '/v1/nowhere-described', 200, 'application/json', Buffer.from('{}'))).to.match(/not described/);
    expect(checkAgainstOpenApi('POST', '/v1/opt-outs/check', 401, 'text/html', Buffer.from('<p>no</p>'))).to.match(/content type/);
    expect(checkAgainstOpenApi('POST', '/v1/opt-outs/check', 200, 'application/json; charset=utf-8', Buffer.from('{"optedOut":false,"record":true}'))).to.equal(undefined);
  });

  it('holds the subject-request answers to their schemas: a field of the wrong type, a missing or an extra one fails the check', async () => {
    const admin = { Authorization: `Bearer ${await t.token('admin')}` };
    const opened = await request(t.app).post('/v1/subject-requests').set(admin).send({ kind: 'erasure', number: '070-555 12 34', receivedAt: '2026-11-02', reference: 'KS 2026/1' });
    expect(opened.status, JSON.stringify(opened.body)).to.equal(201);
    const id = opened.body.id as string;
    const details = await request(t.app).get(`/v1/subject-requests/${id}`).set(admin);
    expect(details.status).to.equal(200);
    const check = (method: string, path: string, body: unknown) => checkAgainstOpenApi(method, path, 200, 'application/json', Buffer.from(JSON.stringify(body)));
    // The real answers match.
    expect(checkAgainstOpenApi('POST', '/v1/subject-requests', 201, 'application/json', Buffer.from(JSON.stringify(opened.body)))).to.equal(undefined);
    expect(check('GET', `/v1/subject-requests/${id}`, details.body)).to.equal(undefined);
    // One field broken at a time.
    expect(check('GET', `/v1/subject-requests/${id}`, { ...details.body, request: { ...details.body.request, daysLeft: '30' } })).to.match(/daysLeft|integer/);
    expect(check('GET', `/v1/subject-requests/${id}`, { ...details.body, counts: { ...details.body.counts, deletable: undefined } })).to.match(/deletable/);
    expect(check('POST', `/v1/subject-requests/${id}/close`, { ...opened.body, callerKey: 'ab12' })).to.match(/additional/);
    expect(check('GET', '/v1/subject-requests', { items: [{ ...opened.body, status: 'pending' }] })).to.match(/status|allowed values/);
    expect(check('POST', `/v1/subject-requests/${id}/erase`, { deleted: 1, keptUnderHold: [{ recordingId: 'x' }] })).to.match(/reason/);
    expect(check('POST', `/v1/subject-requests/${id}/object`, { deleted: 1, keptUnderHold: [] })).to.match(/optOutId/);
    expect(check('POST', `/v1/subject-requests/${id}/restrict`, { held: 1, alreadyHeld: 0 })).to.match(/until/);

    // And through the app: a use case whose answer breaks the schema fails the test app's close().
    const other = await startTestApp();
    const token = await other.token('admin');
    const real = other.services.subjectRequests.requests;
    sinon.stub(real, 'list').callsFake(async () => [{ ...opened.body, overdue: 'no' }]);
    const listed = await request(other.app).get('/v1/subject-requests').set('Authorization', `Bearer ${token}`);
    expect(listed.status).to.equal(200);
    const closed = await other.close().then(() => 'closed', (err: Error) => err.message);
    expect(closed).to.match(/responses that do not match \/openapi\.json/).and.match(/GET \/v1\/subject-requests → 200/).and.match(/overdue/);
  });
});
