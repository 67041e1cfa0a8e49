import { isDeepStrictEqual } from 'node:util';
import type { AuditLog } from '../audit-log/index.js';
import type { Clock } from '../shared/clock.js';
import { Conflict, InvalidInput, type FieldError } from '../shared/errors.js';
import { fieldErrorOf } from '../shared/field-errors.js';
import type { Transact, Tx } from '../shared/transaction.js';
import { createChangeRecordingDeadline } from './deadline-change.js';
import { compilePolicy, deadlineUnder, type Retention } from './policy-rules.js';
import { policyBodySchema } from './retention-policy-config.js';
import type { PolicyOrigin, PolicyRepository, PolicyRule, PolicyVersion, RecordingDeadlines } from './ports.js';

export const POLICY_FILE_ACTOR = 'system:policy-file';
const PAGE = 1000;

/** The policy as the API answers it. */
export interface PolicyView {
  version: number;
  rules: PolicyRule[];
  changedAt: string | null;
  changedBy: string | null;
  origin: PolicyOrigin | null;
  /** RETENTION_DAYS: no rule keeps a call longer; calls matching no rule keep exactly this. */
  ceilingDays: number;
  /** Set when RETENTION_POLICY_FILE is the policy: then it is read-only here. */
  file: string | null;
  editable: boolean;
}

/** What a call gets: the retention and the version it was decided under (0: no policy set yet). */
export type RetentionDecision = Retention & { version: number };

export interface PolicyPreview {
  /** Stored recordings whose deadline the rules would bring forward. */
  shortened: number;
  /** …of which the next retention run would delete (unless held). */
  deletedAtNextRun: number;
}

export interface PolicyApplication {
  version: number;
  /** Deadlines brought forward, one audit entry each. */
  changed: number;
}

export function createRetentionPolicy(deps: {
  versions: PolicyRepository;
  recordings: RecordingDeadlines;
  transaction: Transact;
  audit: AuditLog;
  clock: Clock;
  /** RETENTION_DAYS. */
  ceilingDays: number;
  /** The retention horizon: a deadline before it is deleted by the next run. */
  deletionCutoff: (now: Date) => Date;
  /** RETENTION_POLICY_FILE, when the policy comes from a file (then the API cannot change it). */
  file?: string;
  /** Encryption at rest: re-wraps a recording's data key when its deadline is brought forward (deadline-change.ts). */
  rewrapDataKey?: (tx: Tx, recordingId: string, newDeadline: Date) => Promise<void>;
}) {
  const { versions, transaction, audit, clock, ceilingDays } = deps;
  const schema = policyBodySchema(ceilingDays);
  const changeRecordingDeadline = createChangeRecordingDeadline({ recordings: deps.recordings, audit, rewrapDataKey: deps.rewrapDataKey });
  let compiled: { version: number; resolve: (queue: string | null) => Retention } = { version: 0, resolve: compilePolicy([], ceilingDays) };

  /** The rules of `v`, compiled once per version. */
  const resolverOf = (v: PolicyVersion | undefined) => {
    const version = v?.version ?? 0;
    if (compiled.version !== version) compiled = { version, resolve: compilePolicy(v?.rules ?? [], ceilingDays) };
    return compiled;
  };

  /** The body checked against the schema (and the ceiling); a 422 naming every bad rule otherwise. */
  function parseRules(body: unknown): PolicyRule[] {
    const r = schema.safeParse(body ?? {}, { reportInput: true });
    if (r.success) return r.data.rules as PolicyRule[];
    const errors: FieldError[] = r.error.issues.map((i) => fieldErrorOf(i));
    throw new InvalidInput('invalid-retention-policy', `Invalid retention policy: ${errors.map((e) => `${e.pointer.slice(1) || 'body'} ${e.detail}`).join('; ')}`, { errors });
  }

  const view = (v: PolicyVersion | undefined): PolicyView => ({
    version: v?.version ?? 0,
    rules: v?.rules ?? [],
    changedAt: v?.changedAt ?? null,
    changedBy: v?.changedBy ?? null,
    origin: v?.origin ?? null,
    ceilingDays,
    file: deps.file ?? null,
    editable: !deps.file,
  });

  async function save(rules: PolicyRule[], actor: string, origin: PolicyOrigin): Promise<{ view: PolicyView; changed: boolean }> {
    return transaction(async (tx) => {
      await versions.lockForChange(tx);
      const latest = await versions.latest(tx);
      if (latest && isDeepStrictEqual(latest.rules, rules)) return { view: view(latest), changed: false };
      if (!latest && rules.length === 0) return { view: view(undefined), changed: false };
      const next = { version: (latest?.version ?? 0) + 1, rules, origin, changedBy: actor, changedAt: clock.now().toISOString() };
      await versions.insert(tx, next);
      await audit.append(tx, {
        actor,
        action: 'policy.changed',
        subject: `retention-policy:${next.version}`,
        details: { version: next.version, previousVersion: latest?.version ?? 0, origin, rules },
      });
      return { view: view({ ...next, appliedAt: null }), changed: true };
    });
  }

  return {
    changeRecordingDeadline,
    parseRules,

    async current(): Promise<PolicyView> {
      return view(await versions.latest());
    },

    async history(): Promise<PolicyVersion[]> {
      return versions.history();
    },

    /** A change through the API or the CLI; refused while RETENTION_POLICY_FILE is the policy (it would be overwritten at the next start). */
    async set(body: unknown, actor: string, origin: Exclude<PolicyOrigin, 'file'> = 'api'): Promise<PolicyView> {
      const rules = parseRules(body);
      if (deps.file) {
        throw new Conflict('retention-policy-from-file', `The retention policy is read from ${deps.file} (RETENTION_POLICY_FILE); change the file instead`);
      }
      return (await save(rules, actor, origin)).view;
    },

    /** At start: the file's rules become the policy, as a new version when they differ. */
    async loadFile(body: unknown): Promise<{ view: PolicyView; changed: boolean }> {
      return save(parseRules(body), POLICY_FILE_ACTOR, 'file');
    },

    /** What a call in `queue` gets now. Asked by the pre-call check and by ingest. */
    async decide(queue: string | null, tx?: Tx): Promise<RetentionDecision> {
      const r = resolverOf(await versions.latest(tx));
      return { ...r.resolve(queue), version: r.version };
    },

    /** What saving `body` would do to the stored recordings' deadlines (nothing is changed). */
    async preview(body: unknown): Promise<PolicyPreview> {
      const resolve = compilePolicy(parseRules(body), ceilingDays);
      const cutoff = deps.deletionCutoff(clock.now()).toISOString();
      const out: PolicyPreview = { shortened: 0, deletedAtNextRun: 0 };
      for (let after: string | undefined, page; (page = await deps.recordings.storedPage(after, PAGE)).length; after = page[page.length - 1]!.id) {
        for (const r of page) {
          const to = deadlineUnder(r.startedAt, resolve(r.queue)).toISOString();
          if (to >= r.deadline) continue;
          out.shortened++;
          if (to < cutoff && r.deadline >= cutoff) out.deletedAtNextRun++;
        }
      }
      return out;
    },

    /**
     * Brings stored deadlines in line with the newest version, once per version (a retention run asks
     * first): each later than the rules now allow becomes the earlier one, audited once. Lengthening a
     * rule changes no stored deadline.
     */
    async applyToStored(actor: string): Promise<PolicyApplication> {
      const latest = await versions.latest();
      if (!latest || latest.appliedAt) return { version: latest?.version ?? 0, changed: 0 };
      const resolve = compilePolicy(latest.rules, ceilingDays);
      let changed = 0;
      for (let after: string | undefined, page; (page = await deps.recordings.storedPage(after, PAGE)).length; after = page[page.length - 1]!.id) {
        const due = page
          .map((r) => ({ r, retention: resolve(r.queue) }))
          .map(({ r, retention }) => ({ r, rule: retention.rule, to: deadlineUnder(r.startedAt, retention).toISOString() }))
          .filter((c) => c.to < c.r.deadline);
        if (!due.length) continue;
        const at = clock.now().toISOString();
        changed += await transaction(async (tx) => {
          let n = 0;
          for (const c of due) {
            const done = await changeRecordingDeadline(tx, { recordingId: c.r.id, from: c.r.deadline, to: c.to, policyVersion: latest.version, rule: c.rule, actor, at });
            if (done) n++;
          }
          return n;
        });
      }
      await transaction((tx) => versions.markApplied(tx, latest.version, clock.now().toISOString()));
      return { version: latest.version, changed };
    },
  };
}

export type RetentionPolicy = ReturnType<typeof createRetentionPolicy>;
