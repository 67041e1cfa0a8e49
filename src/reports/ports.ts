import type { AuditEntry } from '../audit-log/index.js';
import type { RecordingReportFacts } from '../recordings/index.js';
import type { HoldReportFacts } from '../retention/index.js';

/** Deletion and discard entries of the audit log appended at or after `since`: the evidence a report checks against. */
export interface DisposalEvidence {
  disposalEntriesSince(since: string): Promise<AuditEntry[]>;
}

/**
 * What the reports read, through the named read models of the capabilities that own the tables:
 * recordings (recordings), holds in force (retention) and the audit log (audit-log). Reports own no table.
 */
export type ReportFacts = RecordingReportFacts & HoldReportFacts & DisposalEvidence;
