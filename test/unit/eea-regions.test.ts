import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config.js';
import { EEA_REGIONS, judgeRegion, parseRegionExceptions, RegionRefused } from '../../src/shared/eea-regions.js';

describe('data stays in the EU/EEA: the store region is judged at start', () => {
  const s3 = { STORAGE_DRIVER: 's3', S3_BUCKET: 'recordings' };

  it('starts on an EU/EEA region, and judges it as such', () => {
    for (const region of ['eu-north-1', 'eu-central-1', 'eu-west-1', 'europe-north2', 'fr-par']) {
      const c = loadConfig({ ...s3, S3_REGION: region });
      expect(c.storeResidency).to.deep.include({ region, eea: true });
    }
    expect(loadConfig(s3).storeResidency).to.deep.equal({ region: 'eu-north-1', eea: true, place: 'Stockholm, Sweden' });
  });

  it('refuses a region outside the EU/EEA, naming it and the way to allow it', () => {
    expect(() => loadConfig({ ...s3, S3_REGION: 'us-east-1' })).to.throw(
      ConfigError,
      /S3_REGION: "us-east-1" is not a known EU\/EEA region.*ALLOW_NON_EEA_REGION="us-east-1:<why it is allowed>"/,
    );
  });

  it('refuses London and Zurich, which carry "eu" in their names but lie outside the EU/EEA', () => {
    for (const region of ['eu-west-2', 'eu-central-2', 'europe-west2', 'europe-west6']) {
      expect(EEA_REGIONS.has(region), region).to.equal(false);
      expect(() => loadConfig({ ...s3, S3_REGION: region }), region).to.throw(ConfigError, new RegExp(`S3_REGION: "${region}"`));
    }
  });

  it('starts outside the list only when ALLOW_NON_EEA_REGION names the region with a reason', () => {
    const c = loadConfig({ ...s3, S3_REGION: 'us-east-1', ALLOW_NON_EEA_REGION: 'us-east-1: on-premises MinIO in Lund (its default region name)' });
    expect(c.storeResidency).to.deep.equal({ region: 'us-east-1', eea: false, exception: { region: 'us-east-1', reason: 'on-premises MinIO in Lund (its default region name)' } });
    expect(() => loadConfig({ ...s3, S3_REGION: 'us-east-1', ALLOW_NON_EEA_REGION: 'us-east-1' })).to.throw(ConfigError, /ALLOW_NON_EEA_REGION: us-east-1 needs a reason after a colon/);
    expect(() => loadConfig({ ...s3, S3_REGION: 'us-east-1', ALLOW_NON_EEA_REGION: 'ap-south-1:other' })).to.throw(ConfigError, /S3_REGION: "us-east-1"/);
  });

  it('does not judge a region when no bucket holds the data (the embedded default)', () => {
    expect(loadConfig({ S3_REGION: 'us-east-1' }).storeResidency).to.equal(undefined);
  });

  it('reads several exceptions separated by semicolons, and refuses what is not region:reason', () => {
    expect(parseRegionExceptions('us-east-1:MinIO in Lund; ap-south-1 : test bucket')).to.deep.equal([
      { region: 'us-east-1', reason: 'MinIO in Lund' },
      { region: 'ap-south-1', reason: 'test bucket' },
    ]);
    expect(parseRegionExceptions('not a region:x y z')).to.have.property('error').that.matches(/not a region name/);
    expect(() => judgeRegion('sa-east-1', [], 'S3_REGION')).to.throw(RegionRefused, /sa-east-1/);
  });
});
