import cron from 'node-cron';
import type { AuditCheckpoints, TreeHeads } from '../src/audit-log/index.js';
import { errorFacts, type Logger } from '../src/shared/logger.js';

/**
 * Signs the audit chain head every hour, and once more when the service stops, so at most the last
 * hour of entries is protected by the chain alone.
 */
export function scheduleAuditCheckpoints(deps: { checkpoints: AuditCheckpoints; treeHeads?: TreeHeads; logger: Logger; schedule?: string }) {
  const run = async (why: string) => {
    try {
      await deps.checkpoints.create();
    } catch (err) {
      deps.logger.error('audit checkpoint failed', { why, err: errorFacts(err) });
    }
    try {
      // The Merkle tree's signed head (receipts), beside the chain head.
      await deps.treeHeads?.sign();
    } catch (err) {
      deps.logger.error('audit tree head failed', { why, err: errorFacts(err) });
    }
  };
  const task = cron.schedule(deps.schedule ?? '0 * * * *', () => run('hourly'), { name: 'audit-checkpoint', noOverlap: true });
  return {
    /** Stops the schedule and signs the final head. */
    async stop(): Promise<void> {
      await task.stop();
      await run('shutdown');
    },
  };
}
