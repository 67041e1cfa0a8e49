import type { AuditLog } from '../audit-log/index.js';
import type { ReadinessCheck } from '../shared/readiness.js';
import type { DeleteRecordings } from '../recordings/index.js';
import type { CallerKeys } from '../shared/caller-key.js';
import type { Clock } from '../shared/clock.js';
import type { Transact } from '../shared/transaction.js';
import type { Logger } from '../shared/logger.js';
import type { ObjectStore } from '../storage/index.js';
import { createAccessPackages } from './access-package.js';
import type { RequestHolds } from '../retention/index.js';
import type { CaseOptOuts, CaseRecordings, SubjectRequestRepository } from './ports.js';
import { createReceiptPackages, type ReceiptSource } from './receipts-package.js';
import { registerOverdueRequestsGauge, type MetricsRegistry } from './subject-request-metrics.js';
import { createSubjectRequests, type OptOutRegistration } from './subject-requests.js';
import type { ExtractPolicy } from './summary.js';

export {
  createSubjectRequests, type SubjectRequests, type CaseDetails, type CaseView, type MatchedCall, type OpenInput, type ExtensionInput, type RestrictionInput,
  type ConfirmationInput, type RestrictionResult, type ErasureResult, type ObjectionResult,
} from './subject-requests.js';
export { openBody, extendBody, restrictBody, confirmBody, parseCaseInput } from './subject-request-input.js';
export { createAccessPackages, type AccessPackages, type AccessPackage, type PackageProgress } from './access-package.js';
export { createReceiptPackages, receiptsHtml, type ReceiptPackages, type ReceiptSource, type CallReceipt } from './receipts-package.js';
export { DELETED_ON_REQUEST, KINDS as SUBJECT_REQUEST_KINDS, holdReasonFor, isRequestHoldReason, type SubjectRequest, type SubjectRequestKind } from './subject-request.js';
export * from './due-date.js';
export type { Controller, ExtractPolicy } from './summary.js';
export type { SubjectRequestRepository, CaseRecordings, CaseOptOuts } from './ports.js';
export { createSubjectRequestRepository, createSubjectRequestStoredText } from './subject-request-repository.js';

/** Wires the cases, the register extract and the overdue metric. No I/O happens here. */
export function createSubjectRequestServices(deps: {
  repo: SubjectRequestRepository;
  recordings: CaseRecordings;
  holds: RequestHolds;
  optOutRecords: CaseOptOuts;
  transaction: Transact;
  store: ObjectStore;
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
  metrics: MetricsRegistry;
  callerKeys: CallerKeys;
  deleteRecordings: DeleteRecordings;
  optOuts: OptOutRegistration;
  preserve: boolean;
  /** The controller and the retention period the register extract states. */
  policy: ExtractPolicy;
  /** The audit log's receipts (transparency log), for the extract and erasure cases. */
  receipts?: ReceiptSource;
}) {
  const requests = createSubjectRequests(deps);
  const packages = createAccessPackages({ ...deps, requests });
  const receiptPackages = deps.receipts ? createReceiptPackages({ requests, receipts: deps.receipts, clock: deps.clock }) : undefined;
  registerOverdueRequestsGauge(deps.metrics, requests);
  return { requests, packages, receiptPackages };
}

/** Informational for /readyz: an overdue request is a matter for the registrar, not a reason to stop serving. */
export function subjectRequestReadinessCheck(requests: { overdueCount(): Promise<number> }): ReadinessCheck {
  return {
    name: 'subject-requests',
    async check() {
      return { ok: true, details: { overdue: await requests.overdueCount() } };
    },
  };
}

/** Logs an error while any request is overdue; the retention job calls it after each run. */
export async function warnOfOverdueRequests(requests: { overdueCount(): Promise<number> }, logger: Logger): Promise<number> {
  const overdue = await requests.overdueCount();
  if (overdue > 0) logger.error('data-subject requests are past their due date', { overdue });
  return overdue;
}
