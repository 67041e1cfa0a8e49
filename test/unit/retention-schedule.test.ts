import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createCronSchedule, createDeletionHorizon } from '../../src/retention/index.js';

const at = (iso: string) => new Date(iso);
const MIN = 60_000;

describe('retention schedule and deletion horizon', () => {
  it('finds the next quarter hour of the default schedule, strictly after the given time', () => {
    const s = createCronSchedule('*/15 * * * *', { from: at('2026-11-23T10:00:00Z') });
    expect(s.nextRunAfter(at('2026-11-23T10:07:30Z')).toISOString()).to.equal('2026-11-23T10:15:00.000Z');
    expect(s.nextRunAfter(at('2026-11-23T10:15:00Z')).toISOString()).to.equal('2026-11-23T10:30:00.000Z');
    expect(s.nextRunAfter(at('2026-11-23T23:59:59.999Z')).toISOString()).to.equal('2026-11-24T00:00:00.000Z');
    expect(s.intervalMs).to.equal(15 * MIN);
  });

  it('reads schedules in UTC, whatever the local time zone', () => {
    const s = createCronSchedule('30 3 * * *', { from: at('2026-11-23T00:00:00Z') });
    expect(s.nextRunAfter(at('2026-11-23T04:00:00Z')).toISOString()).to.equal('2026-11-24T03:30:00.000Z');
    expect(s.intervalMs).to.equal(24 * 60 * MIN);
  });

  it('takes the longest gap as the interval when runs are uneven (weekdays only)', () => {
    const s = createCronSchedule('0 2 * * 1-5', { from: at('2026-11-23T00:00:00Z') }); // a Monday
    expect(s.nextRunAfter(at('2026-11-27T03:00:00Z')).toISOString()).to.equal('2026-11-30T02:00:00.000Z'); // Fri → Mon
    expect(s.intervalMs).to.equal(3 * 24 * 60 * MIN);
  });

  it('honours a seconds field', () => {
    const s = createCronSchedule('*/20 * * * * *', { from: at('2026-11-23T00:00:00Z') });
    expect(s.nextRunAfter(at('2026-11-23T10:00:05Z')).toISOString()).to.equal('2026-11-23T10:00:20.000Z');
    expect(s.intervalMs).to.equal(20_000);
  });

  it('keeps runs in UTC across the Stockholm daylight-saving changes, in a process on Stockholm time', () => {
    const tz = process.env.TZ;
    process.env.TZ = 'Europe/Stockholm'; // Node reads TZ afresh when it is set
    try {
      // Clocks go back at 01:00 UTC on 2026-10-25 (03:00 CEST → 02:00 CET) and forward on 2026-03-29.
      const daily = createCronSchedule('30 1 * * *', { from: at('2026-10-20T00:00:00Z') });
      expect(daily.nextRunAfter(at('2026-10-24T02:00:00Z')).toISOString()).to.equal('2026-10-25T01:30:00.000Z');
      expect(daily.nextRunAfter(at('2026-10-25T01:30:00Z')).toISOString()).to.equal('2026-10-26T01:30:00.000Z');
      expect(daily.nextRunAfter(at('2026-03-28T02:00:00Z')).toISOString()).to.equal('2026-03-29T01:30:00.000Z');
      expect(daily.intervalMs).to.equal(24 * 60 * MIN);
      // Every hour through the repeated local hour: no run dropped, none doubled.
      const hourly = createCronSchedule('0 * * * *', { from: at('2026-10-25T00:00:00Z') });
      const runs = [at('2026-10-24T23:30:00Z')];
      for (let i = 0; i < 4; i++) runs.push(hourly.nextRunAfter(runs.at(-1)!));
      expect(runs.slice(1).map((d) => d.toISOString())).to.deep.equal(['2026-10-25T00:00:00.000Z', '2026-10-25T01:00:00.000Z', '2026-10-25T02:00:00.000Z', '2026-10-25T03:00:00.000Z']);
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it('runs only on days that match both the day of month and the day of week, as node-cron does', () => {
    const s = createCronSchedule('0 2 1-7 * 1', { from: at('2026-11-01T00:00:00Z') }); // the first Monday of a month
    expect(s.nextRunAfter(at('2026-11-01T00:00:00Z')).toISOString()).to.equal('2026-11-02T02:00:00.000Z');
    expect(s.nextRunAfter(at('2026-11-02T02:00:00Z')).toISOString()).to.equal('2026-12-07T02:00:00.000Z');
  });

  it('refuses a RETENTION_SCHEDULE that is not a cron expression at start, naming the variable', () => {
    expect(() => loadConfig({ RETENTION_SCHEDULE: 'every hour' })).to.throw(ConfigError, /RETENTION_SCHEDULE/);
    expect(loadConfig({ RETENTION_SCHEDULE: '0 * * * *', RETENTION_MARGIN: '30m' })).to.include({ retentionSchedule: '0 * * * *', retentionMarginMs: 30 * MIN });
  });

  it('refuses an expression node-cron cannot parse', () => {
    expect(() => createCronSchedule('every quarter')).to.throw(/not a cron expression/);
  });

  it('reaches one interval plus one hour past the next run by default', () => {
    const h = createDeletionHorizon({ schedule: createCronSchedule('*/15 * * * *', { from: at('2026-11-23T10:00:00Z') }) });
    expect(h.marginMs).to.equal(75 * MIN);
    expect(h.cutoff(at('2026-11-23T10:07:00Z')).toISOString()).to.equal('2026-11-23T11:30:00.000Z');
  });

  it('uses RETENTION_MARGIN when it is set', () => {
    const h = createDeletionHorizon({ schedule: createCronSchedule('*/15 * * * *'), marginMs: 10 * MIN });
    expect(h.cutoff(at('2026-11-23T10:07:00Z')).toISOString()).to.equal('2026-11-23T10:25:00.000Z');
  });

  it('keeps every deadline covered when any single run fails: the run after it is still in time', () => {
    // For any moment a run happens, everything with a deadline before the *following* run's own
    // next run must already be inside this run's cutoff, or a failure here leaves it too late.
    const s = createCronSchedule('*/15 * * * *', { from: at('2026-11-23T00:00:00Z') });
    const h = createDeletionHorizon({ schedule: s });
    let run = s.nextRunAfter(at('2026-11-23T00:00:00Z'));
    for (let i = 0; i < 200; i++) {
      const next = s.nextRunAfter(run);
      const afterNext = s.nextRunAfter(next);
      // A recording not reached by `run` has deadline ≥ cutoff(run); it must survive until `next` retries.
      expect(h.cutoff(run).getTime()).to.be.greaterThan(afterNext.getTime());
      run = next;
    }
  });
});
