export { createRetentionReport, isoDuration, OUTCOMES, type ReportFormat, type RetentionReport, type ReportRow, type Outcome, type Discrepancy, type RetentionReportUseCase } from './retention-report.js';
export type { ReportFacts, DisposalEvidence } from './ports.js';
export { createComplianceOverview, AGE_DAYS, OVERVIEW_MAX_DAYS, type ComplianceOverview, type ComplianceOverviewUseCase, type DeletionDay, type AgeBucket } from './compliance-overview.js';
export { reportRowsCsv, reportTotalsCsv, excelTime, durationSv, OUTCOME_SV, REASON_SV, DISCREPANCY_SV, REPORT_FILES } from './report-csv.js';
