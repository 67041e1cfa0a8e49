export { createRetentionReport, reportCsv, isoDuration, OUTCOMES, type RetentionReport, type ReportRow, type Outcome, type Discrepancy, type RetentionReportUseCase } from './retention-report.js';
export { createReportRepository, type ReportRepository } from './report-repository.js';
