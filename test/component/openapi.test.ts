import { Validator } from '@seriousme/openapi-schema-validator';
import { expect } from 'chai';
import request from 'supertest';
import { checkAgainstOpenApi } from '../helpers/openapi-check.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

describe('/openapi.json', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(async () => t.close());

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
    expect(checkAgainstOpenApi('POST', '/v1/opt-outs/check', 200, 'application/json; charset=utf-8', Buffer.from('{"optedOut":false}'))).to.equal(undefined);
  });
});
