export { createRetentionReport, reportCsv, isoDuration, OUTCOMES, type RetentionReport, type ReportRow, type Outcome, type Discrepancy, type RetentionReportUseCase } from './retention-report.js';
export { createReportRepository, type ReportRepository } from './report-repository.js';
export { createComplianceOverview, AGE_DAYS, OVERVIEW_MAX_DAYS, type ComplianceOverview, type ComplianceOverviewUseCase, type DeletionDay, type AgeBucket } from './compliance-overview.js';
