import { expect } from 'chai';
import {
  addCalendarMonths, daysBetween, dueDateFor, endOfLocalDay, latestExtensionFor, localDateOf, localDateTime, startOfLocalDay,
} from '../../src/subject-requests/index.js';
import { containsPhoneNumber } from '../../src/shared/phone-number-text.js';

describe('subject-request due dates (one calendar month, Europe/Stockholm)', () => {
  it('clamps to the end of a shorter month: 31 January → 28 February, or 29 in a leap year', () => {
    expect(dueDateFor('2026-01-31')).to.equal('2026-02-28');
    expect(dueDateFor('2028-01-31')).to.equal('2028-02-29');
    expect(dueDateFor('2026-03-31')).to.equal('2026-04-30');
    expect(dueDateFor('2026-12-15')).to.equal('2027-01-15');
    expect(latestExtensionFor('2026-11-30')).to.equal('2027-02-28');
    expect(addCalendarMonths('2026-08-31', 6)).to.equal('2027-02-28');
  });

  it('ends a day at Stockholm midnight, in winter and summer time and on both DST change days', () => {
    expect(endOfLocalDay('2026-02-28').toISOString()).to.equal('2026-02-28T23:00:00.000Z');
    expect(endOfLocalDay('2026-07-01').toISOString()).to.equal('2026-07-01T22:00:00.000Z');
    // 29 March 2026: clocks go forward at 02:00; the day starts in CET and ends in CEST.
    expect(startOfLocalDay('2026-03-29').toISOString()).to.equal('2026-03-28T23:00:00.000Z');
    expect(endOfLocalDay('2026-03-29').toISOString()).to.equal('2026-03-29T22:00:00.000Z');
    // 25 October 2026: clocks go back at 03:00; the day is 25 hours long.
    expect(startOfLocalDay('2026-10-25').toISOString()).to.equal('2026-10-24T22:00:00.000Z');
    expect(endOfLocalDay('2026-10-25').toISOString()).to.equal('2026-10-25T23:00:00.000Z');
  });

  it('reads the local date of an instant near midnight and names the zone', () => {
    expect(localDateOf(new Date('2026-01-31T23:30:00Z'))).to.equal('2026-02-01');
    expect(localDateOf(new Date('2026-06-30T21:59:59Z'))).to.equal('2026-06-30');
    expect(localDateTime(new Date('2026-06-30T22:00:00Z'))).to.deep.equal({ date: '2026-07-01', time: '00:00:00', zone: 'CEST', offset: '+02:00' });
    expect(localDateTime(new Date('2026-11-02T13:05:09Z'))).to.include({ time: '14:05:09', zone: 'CET' });
    expect(daysBetween('2026-11-30', '2026-12-30')).to.equal(30);
    expect(daysBetween('2026-03-28', '2026-03-30')).to.equal(2);
  });
});

describe('free text that looks like a phone number', () => {
  it('refuses numbers as registrars type them and lets case numbers through', () => {
    for (const s of ['070-123 45 67', '+46701234567', '0046701234567', '46701234567', '08-123 456 78', 'ring 0707 12 34 56']) expect(containsPhoneNumber(s), s).to.equal(true);
    for (const s of ['KS 2026/1234', 'BN 2026-000456', 'Dnr 2026-00123', 'ärende 17', '2026.123']) expect(containsPhoneNumber(s), s).to.equal(false);
  });
});
