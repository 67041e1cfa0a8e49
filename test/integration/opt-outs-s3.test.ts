import { expect } from 'chai';
import sinon from 'sinon';
import request from 'supertest';
import { createS3Client, createS3ObjectStore, type ObjectStore } from '../../src/storage/index.js';
import { s3ConfigFor, startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture, recordingBody, signedHeaders } from '../helpers/webhook.js';

async function keys(store: ObjectStore): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.list('recordings/')) out.push(o.key);
  return out;
}

describe('opt-out deleteExisting through the S3 adapter (s3rver)', () => {
  let s3: S3TestServer;
  let store: ObjectStore;
  let t: TestApp;
  beforeEach(async () => {
    s3 = await startS3Server();
    const cfg = s3ConfigFor(s3);
    store = createS3ObjectStore({ client: createS3Client(cfg), bucket: cfg.bucket, sse: 'none' });
    t = await startTestApp({ store });
  });
  afterEach(async () => {
    sinon.restore();
    await t.close();
    await s3.close();
  });

  it('leaves no object of the opted-out number in the bucket, and keeps the others', async () => {
    const upload = async (caller: string) => {
      const { body, contentType } = recordingBody(callMeta(t.clock.now(), { caller }), fixture('call-8k.mp3'));
      const res = await request(t.app).post('/v1/recordings').set(signedHeaders(body, t.clock.now())).set('Content-Type', contentType).send(body);
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      return res.body.id as string;
    };
    const mine = [await upload('070-765 43 21'), await upload('+46707654321')];
    const other = await upload('+46701112233');
    expect(await keys(store)).to.have.length(3);

    const phone = await t.token('phone-system');
    const res = await request(t.app).post('/v1/opt-outs').set('Authorization', `Bearer ${phone}`).send({ number: '0046707654321', deleteExisting: true });
    expect(res.status).to.equal(201);
    expect(res.body.deletedRecordings).to.equal(2);

    const left = await keys(store);
    expect(left).to.have.length(1);
    expect(left[0]).to.match(new RegExp(`${other}$`));
    for (const id of mine) {
      const row = await t.db('recordings').where({ id }).first();
      expect(row).to.include({ status: 'deleted', caller_key: null });
      expect(await store.exists(row.storage_key)).to.equal(false);
    }
  });
});
