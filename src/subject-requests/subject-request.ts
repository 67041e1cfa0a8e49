import type { LocalDate } from './due-date.js';

export const KINDS = ['access', 'restriction', 'erasure', 'objection'] as const;
export type SubjectRequestKind = (typeof KINDS)[number];
export type SubjectRequestStatus = 'open' | 'extended' | 'answered' | 'closed';

/** A data-subject request as a case. It never holds the number; the caller key only until it is closed. */
export interface SubjectRequest {
  id: string;
  kind: SubjectRequestKind;
  callerKey: string | null;
  status: SubjectRequestStatus;
  reference: string;
  note: string | null;
  receivedAt: string;
  receivedDate: LocalDate;
  /** One calendar month after receipt. */
  dueDate: LocalDate;
  /** When the case becomes overdue: the end of the (extended) due date in Stockholm. */
  dueAt: string;
  extendedUntil: LocalDate | null;
  extensionReason: string | null;
  openedAt: string;
  openedBy: string;
  answeredAt: string | null;
  answeredBy: string | null;
  closedAt: string | null;
  closedBy: string | null;
  carriedOutAt: string | null;
}

/** What a case did to a recording, remembered after the recording's caller key is gone. */
export type CaseCallOutcome = 'deleted-on-request' | 'held-for-request' | 'kept-under-hold' | 'preserved';

export interface CaseCall {
  requestId: string;
  recordingId: string;
  outcome: CaseCallOutcome;
  at: string;
  holdReason: string | null;
}

/** The reason recordings are deleted with when a data subject asks (erasure or objection). */
export const DELETED_ON_REQUEST = 'subject-request';

/** The reason of a hold a case places (preservation during an access request, or a restriction). */
export function holdReasonFor(requestId: string): string {
  return `subject-request:${requestId}`;
}

export function isRequestHoldReason(reason: string): boolean {
  return reason.startsWith('subject-request:');
}
