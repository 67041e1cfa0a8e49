import type { AuditCheckpoints } from '../src/audit-log/index.js';
import { errorFacts, errorSummary, type Logger } from '../src/shared/logger.js';

/** What /readyz shows while the start-up verification of the audit log has not passed yet. */
export interface PendingVerification {
  /** Attempts that failed so far. */
  attempts: number;
  /** The last attempt's error, by name and code (the store or the database not answering). */
  lastError: string;
  /** When the next attempt starts. */
  nextAttemptAt: string;
}

/**
 * The audit log's start-up verification reads checkpoints from the store, so it needs the store; the
 * service must not: the pre-call check and opt-out registration keep answering while the store is
 * down. It runs in the background, and one that fails (the store or the database not answering) is
 * retried after 1 s, 2 s, 4 s … up to `maxDelayMs` until it passes; meanwhile `pending()` says so
 * (in /readyz). A chain that does not verify is a result, not a failure: it is reported as before.
 */
export function startAuditStartVerification(deps: { checkpoints: Pick<AuditCheckpoints, 'check'>; logger: Logger; firstDelayMs?: number; maxDelayMs?: number }) {
  const firstDelayMs = deps.firstDelayMs ?? 1_000;
  const maxDelayMs = deps.maxDelayMs ?? 30_000;
  let pending: PendingVerification | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<void> | undefined;

  const attempt = async (attempts: number): Promise<void> => {
    try {
      await deps.checkpoints.check('start');
      if (pending) deps.logger.info('audit log verified at start, after waiting for its dependencies', { attempts: pending.attempts });
      pending = undefined;
    } catch (err) {
      const delayMs = Math.min(maxDelayMs, firstDelayMs * 2 ** (attempts - 1));
      pending = { attempts, lastError: errorSummary(err), nextAttemptAt: new Date(Date.now() + delayMs).toISOString() };
      deps.logger.warn('the audit log could not be verified at start; retrying in the background', { attempts, retryInMs: delayMs, err: errorFacts(err, { stack: false }) });
      if (stopped) return;
      timer = setTimeout(() => {
        running = attempt(attempts + 1);
      }, delayMs);
      timer.unref();
    }
  };
  running = attempt(1);

  return {
    /** Undefined once the start-up verification has run (whatever it found), else what it waits for. */
    pending: (): PendingVerification | undefined => pending,
    /** Stops retrying and waits for an attempt under way. */
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
