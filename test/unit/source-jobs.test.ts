import { expect } from 'chai';
import sinon from 'sinon';
import { LEASE_TTL_MS } from '../../jobs/schedule.js';
import { sourceJobLeaseTtl, startSourceJobs } from '../../jobs/sources.js';
import type { Services } from '../../src/services.js';
import { createLogger } from '../../src/shared/logger.js';

describe('source jobs', () => {
  afterEach(() => sinon.restore());

  const deps = (pollers: unknown[]) =>
    ({
      sources: { pollers },
      runLeases: { acquire: async () => null },
      logger: createLogger({ level: 'silent' }),
    }) as unknown as Pick<Services, 'sources' | 'runLeases' | 'logger'>;

  it('schedules nothing when no source is configured', async () => {
    const jobs = startSourceJobs(deps([]));
    expect(jobs.tasks).to.deep.equal([]);
    await jobs.stop();
  });

  it('schedules one task per source on its interval and closes the sources when stopped', async () => {
    const close = sinon.stub().resolves();
    const poller = { name: 'pbx', config: { schedule: '*/15 * * * * *' }, poll: sinon.stub().resolves(null), close };
    const jobs = startSourceJobs(deps([poller]));
    expect(jobs.tasks).to.have.length(1);
    expect(jobs.tasks[0]!.name).to.equal('source-pbx');
    await jobs.stop();
    expect(close.calledOnce).to.equal(true);
  });

  it("keeps a source's job lease no longer than its item lease, so a restart after kill -9 polls again within it", () => {
    expect(sourceJobLeaseTtl({ leaseMs: 5_000 })).to.equal(5_000);
    expect(sourceJobLeaseTtl({ leaseMs: 15 * 60_000 })).to.equal(LEASE_TTL_MS);
    expect(sourceJobLeaseTtl({})).to.equal(LEASE_TTL_MS);
  });
});
