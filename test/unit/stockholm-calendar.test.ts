import { expect } from 'chai';
import { DateTime } from 'luxon';
import { stockholmCalendar, TIME_ZONE } from '../../src/shared/stockholm-calendar.js';

// The module the server and the browser share, across both 2026 DST changes in Stockholm:
// 29 March (02:00 CET → 03:00 CEST, a 23-hour day) and 25 October (03:00 CEST → 02:00 CET, 25 hours).
const cal = stockholmCalendar(DateTime);

describe('Stockholm calendar shared by server and browser (Luxon)', () => {
  it('is pinned to Europe/Stockholm', () => {
    expect(TIME_ZONE).to.equal('Europe/Stockholm');
  });

  it('starts and ends the spring-forward day at local midnight: 23 hours long', () => {
    const start = cal.startOfLocalDay('2026-03-29');
    const end = cal.endOfLocalDay('2026-03-29');
    expect(start.toISOString()).to.equal('2026-03-28T23:00:00.000Z');
    expect(end.toISOString()).to.equal('2026-03-29T22:00:00.000Z');
    expect(end.getTime() - start.getTime()).to.equal(23 * 3_600_000);
    expect(cal.offsetMinutesAt(new Date('2026-03-29T00:59:59Z'))).to.equal(60);
    expect(cal.offsetMinutesAt(new Date('2026-03-29T01:00:00Z'))).to.equal(120);
  });

  it('starts and ends the fall-back day at local midnight: 25 hours long', () => {
    const start = cal.startOfLocalDay('2026-10-25');
    const end = cal.endOfLocalDay('2026-10-25');
    expect(start.toISOString()).to.equal('2026-10-24T22:00:00.000Z');
    expect(end.toISOString()).to.equal('2026-10-25T23:00:00.000Z');
    expect(end.getTime() - start.getTime()).to.equal(25 * 3_600_000);
    expect(cal.offsetMinutesAt(new Date('2026-10-25T00:59:59Z'))).to.equal(120);
    expect(cal.offsetMinutesAt(new Date('2026-10-25T01:00:00Z'))).to.equal(60);
  });

  it('reads the local date and zone of instants either side of both changes and of midnight', () => {
    expect(cal.localDateTime(new Date('2026-03-29T00:59:59Z'))).to.deep.equal({ date: '2026-03-29', time: '01:59:59', zone: 'CET', offset: '+01:00' });
    expect(cal.localDateTime(new Date('2026-03-29T01:00:00Z'))).to.deep.equal({ date: '2026-03-29', time: '03:00:00', zone: 'CEST', offset: '+02:00' });
    // 02:30 happens twice on 25 October: first in CEST, then in CET.
    expect(cal.localDateTime(new Date('2026-10-25T00:30:00Z'))).to.deep.equal({ date: '2026-10-25', time: '02:30:00', zone: 'CEST', offset: '+02:00' });
    expect(cal.localDateTime(new Date('2026-10-25T01:30:00Z'))).to.deep.equal({ date: '2026-10-25', time: '02:30:00', zone: 'CET', offset: '+01:00' });
    expect(cal.localDateOf(new Date('2026-03-28T22:59:59Z'))).to.equal('2026-03-28');
    expect(cal.localDateOf(new Date('2026-03-28T23:00:00Z'))).to.equal('2026-03-29');
    expect(cal.localDateOf(new Date('2026-10-24T21:59:59Z'))).to.equal('2026-10-24');
    expect(cal.localDateOf(new Date('2026-10-24T22:00:00Z'))).to.equal('2026-10-25');
  });

  it('counts calendar days and months without hours leaking across the changes', () => {
    expect(cal.addDays('2026-03-28', 2)).to.equal('2026-03-30');
    expect(cal.addDays('2026-10-26', -2)).to.equal('2026-10-24');
    expect(cal.daysBetween('2026-03-28', '2026-03-30')).to.equal(2);
    expect(cal.daysBetween('2026-10-26', '2026-10-24')).to.equal(-2);
    expect(cal.daysBetween('2026-01-01', '2027-01-01')).to.equal(365);
    expect(cal.addCalendarMonths('2026-02-28', 1)).to.equal('2026-03-28');
    expect(cal.addCalendarMonths('2026-09-30', 1)).to.equal('2026-10-30');
    expect(cal.addCalendarMonths('2026-01-31', 1)).to.equal('2026-02-28');
  });

  it('formats an instant with its zone name in Swedish and English on both sides of a change', () => {
    expect(cal.formatLocal('sv-SE', '2026-10-25T00:30:00Z')).to.equal('2026-10-25 02:30 CEST');
    expect(cal.formatLocal('sv-SE', '2026-10-25T01:30:00Z')).to.equal('2026-10-25 02:30 CET');
    expect(cal.formatLocal('en-GB', new Date('2026-03-29T01:00:00Z'))).to.equal('29/03/2026, 03:00 CEST');
  });

  it('refuses what is not a calendar date', () => {
    expect(cal.isCalendarDate('2026-02-29')).to.equal(false);
    expect(cal.isCalendarDate('2028-02-29')).to.equal(true);
    expect(cal.isCalendarDate('2026-3-01')).to.equal(false);
    expect(() => cal.addDays('2026-13-01', 1)).to.throw(RangeError, 'not a calendar date');
    expect(() => cal.startOfLocalDay('29/03/2026')).to.throw(RangeError, 'not a calendar date');
  });
});
