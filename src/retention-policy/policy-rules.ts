import picomatch from 'picomatch';
import { foldCase } from '../shared/case-fold.js';
import { DAY_MS } from '../shared/clock.js';
import type { PolicyRule } from './ports.js';

/** What one call gets under a policy. */
export interface Retention {
  record: boolean;
  /** 0 when not recorded. */
  retainDays: number;
  /** The rule's queue pattern as written, or null for the default (RETENTION_DAYS). */
  rule: string | null;
}

/** A pattern with * ? [ or { is a glob (picomatch); anything else names one queue (parentheses in a name are not extglobs). */
const isGlob = (pattern: string): boolean => /[*?[{]/.test(pattern);

interface Compiled {
  rule: PolicyRule;
  days: number;
  pattern: string;
}

/**
 * The policy as a function of the queue. Resolution: a rule naming the queue exactly beats a glob, a
 * longer glob beats a shorter one, and between equals the shortest retention wins (record: false is
 * shortest). A call matching no rule, or with no queue, keeps `ceiling` days.
 */
export function compilePolicy(rules: PolicyRule[], ceiling: number): (queue: string | null) => Retention {
  const exact = new Map<string, Compiled>();
  const globs: Array<Compiled & { length: number; test: (s: string) => boolean }> = [];
  const shorter = (a: Compiled | undefined, b: Compiled) => (!a || b.days < a.days ? b : a);
  for (const rule of rules) {
    const pattern = foldCase(rule.match.queue.trim());
    const c: Compiled = { rule, days: rule.record === false ? 0 : rule.retainDays, pattern: rule.match.queue.trim() };
    if (isGlob(pattern)) globs.push({ ...c, length: pattern.length, test: picomatch(pattern, { dot: true, nocase: false }) });
    else exact.set(pattern, shorter(exact.get(pattern), c));
  }
  // Longest glob first, then shortest retention: the first match is the answer.
  globs.sort((a, b) => b.length - a.length || a.days - b.days);
  const fallback: Retention = { record: true, retainDays: ceiling, rule: null };
  // Queues are few: each one's answer is computed once.
  const seen = new Map<string, Retention>();
  return (queue) => {
    if (queue === null || queue.trim() === '') return fallback;
    const key = foldCase(queue.trim());
    const known = seen.get(key);
    if (known) return known;
    const hit = exact.get(key) ?? globs.find((g) => g.test(key));
    const answer: Retention = hit ? { record: hit.days > 0, retainDays: Math.min(hit.days, ceiling), rule: hit.pattern } : fallback;
    if (seen.size < 10_000) seen.set(key, answer);
    return answer;
  };
}

/** The deadline a call gets under a retention: its start plus the days (a not-recorded queue: its start). */
export function deadlineUnder(startedAt: string | Date, r: Retention): Date {
  return new Date(new Date(startedAt).getTime() + r.retainDays * DAY_MS);
}
