const HOUR_MS = 3_600_000;

/** The deadline period a deadline falls in: its UTC hour, or a block of `hours` hours counted from 1970-01-01T00Z. */
export function periodOf(deadline: Date, hours = 1): { id: string; start: Date; end: Date } {
  const len = hours * HOUR_MS;
  const start = new Date(Math.floor(deadline.getTime() / len) * len);
  const iso = start.toISOString();
  return { id: `period-${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}`, start, end: new Date(start.getTime() + len) };
}

export function holdKekId(period: string): string {
  return `hold-${period.replace(/^period-/, '')}`;
}

/** Key store ids: what the adapters accept (they become file names). */
export const KEK_ID = /^(period|hold)-[0-9]{8}T[0-9]{2}$/;
