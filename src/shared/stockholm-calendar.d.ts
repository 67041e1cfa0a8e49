import type { DateTime } from 'luxon';

/** Types of the plain-JavaScript module beside this file (plain so the browser loads the same copy). */
export declare const TIME_ZONE: 'Europe/Stockholm';

/** A calendar date, YYYY-MM-DD. */
export type LocalDate = string;

export interface StockholmCalendar {
  localDateOf(at: Date): LocalDate;
  offsetMinutesAt(at: Date): number;
  isCalendarDate(s: string): boolean;
  addCalendarMonths(date: LocalDate, months: number): LocalDate;
  addDays(date: LocalDate, days: number): LocalDate;
  startOfLocalDay(date: LocalDate): Date;
  endOfLocalDay(date: LocalDate): Date;
  daysBetween(from: LocalDate, to: LocalDate): number;
  localDateTime(at: Date): { date: LocalDate; time: string; zone: 'CET' | 'CEST'; offset: string };
  formatLocal(locale: string, at: string | Date): string;
}

export declare function stockholmCalendar(dateTime: typeof DateTime): StockholmCalendar;
