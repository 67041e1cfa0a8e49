import type { AuditLog } from '../audit-log/index.js';
import type { Transact } from '../shared/transaction.js';
import type { RegionJudgement } from '../shared/eea-regions.js';

/** The audit action of a start on a store outside the EU/EEA list, allowed by ALLOW_NON_EEA_REGION. */
export const REGION_EXCEPTION_USED = 'storage.non-eea-region-allowed';

/**
 * Appends, at every start, the exception that lets a store outside the EU/EEA list hold the data: the
 * auditor sees for each period that the data lay in a region the promise does not name, and why.
 * A region in the EU/EEA appends nothing.
 */
export function createRegionExceptionRecord(deps: { transaction: Transact; audit: AuditLog }) {
  const { transaction, audit } = deps;
  return async function recordRegionException(actor: string, setting: string, judgement: RegionJudgement): Promise<boolean> {
    if (judgement.eea) return false;
    await transaction((tx) =>
      audit.append(tx, { actor, action: REGION_EXCEPTION_USED, subject: null, details: { setting, region: judgement.region, reason: judgement.exception.reason } }),
    );
    return true;
  };
}
