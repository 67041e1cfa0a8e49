import type { S3Client } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import sinon from 'sinon';
import { loadConfig } from '../../src/config.js';
import { createS3Client } from '../../src/storage/s3-object-store.js';
import { applyLifecycle, lifecycleRules } from '../../src/storage/lifecycle.js';

interface Command {
  constructor: { name: string };
  input: Record<string, any>;
}

describe('S3 lifecycle rules', () => {
  let client: S3Client;
  let sent: Command[];
  let existing: unknown[] | undefined;

  beforeEach(() => {
    client = createS3Client({ ...loadConfig({ S3_BUCKET: 'calls' }).s3!, forcePathStyle: true, requestChecksum: 'when_required' });
    sent = [];
    existing = undefined;
    sinon.stub(client, 'send').callsFake((async (cmd: Command) => {
      sent.push(cmd);
      if (cmd.constructor.name === 'GetBucketLifecycleConfigurationCommand') {
        if (!existing) throw Object.assign(new Error('none'), { name: 'NoSuchLifecycleConfiguration', $metadata: { httpStatusCode: 404 } });
        return { Rules: existing };
      }
      if (cmd.constructor.name === 'PutBucketLifecycleConfigurationCommand') return {};
      throw new Error(`unexpected ${cmd.constructor.name}`);
    }) as never);
  });
  afterEach(() => {
    sinon.restore();
    client.destroy();
  });

  it('expires recordings one day after retention, their old versions and markers, and stale multipart uploads', async () => {
    await applyLifecycle(client, 'calls', 30);

    const put = sent.find((c) => c.constructor.name === 'PutBucketLifecycleConfigurationCommand')!;
    expect(put.input).to.deep.equal({
      Bucket: 'calls',
      LifecycleConfiguration: {
        Rules: [
          {
            ID: 'gallra-recordings-retention',
            Status: 'Enabled',
            Filter: { Prefix: 'recordings/' },
            Expiration: { Days: 31 },
            NoncurrentVersionExpiration: { NoncurrentDays: 1 },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          },
          {
            ID: 'gallra-recordings-delete-markers',
            Status: 'Enabled',
            Filter: { Prefix: 'recordings/' },
            Expiration: { ExpiredObjectDeleteMarker: true },
          },
        ],
      },
    });
  });

  it("keeps the bucket's other rules and replaces its own", async () => {
    const foreign = { ID: 'logs-expiry', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 7 } };
    existing = [foreign, { ID: 'gallra-recordings-retention', Status: 'Enabled', Filter: { Prefix: 'recordings/' }, Expiration: { Days: 91 } }];

    const { applied, kept } = await applyLifecycle(client, 'calls', 7);

    expect(kept).to.deep.equal([foreign]);
    const rules = sent.find((c) => c.constructor.name === 'PutBucketLifecycleConfigurationCommand')!.input.LifecycleConfiguration.Rules;
    expect(rules).to.deep.equal([foreign, ...applied]);
    expect(rules.filter((r: { ID: string }) => r.ID === 'gallra-recordings-retention')[0].Expiration).to.deep.equal({ Days: 8 });
  });

  it('puts nothing when the existing configuration cannot be read', async () => {
    (client.send as unknown as sinon.SinonStub).callsFake((async () => {
      throw Object.assign(new Error('denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    }) as never);
    try {
      await applyLifecycle(client, 'calls', 30);
      expect.fail('applied anyway');
    } catch (err) {
      expect((err as Error).name).to.equal('AccessDenied');
    }
  });

  it('refuses a retention that is not a positive whole number of days', () => {
    expect(() => lifecycleRules(0)).to.throw(RangeError);
    expect(() => lifecycleRules(1.5)).to.throw(RangeError);
  });
});
