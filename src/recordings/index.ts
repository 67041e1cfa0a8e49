export { createIngest, QUEUE_NOT_RECORDED, type Ingest, type DiscardPolicy, type IngestOutcome, type ReceiveOptions, type QueueRetention } from './ingest-recording.js';
export { callMetadataSchema, parseCallMetadata, type CallMetadata } from './call-metadata.js';
export { detectAudioFormat } from './audio-format.js';
export { storageKeyFor, RECORDINGS_PREFIX, type Recording } from './recording.js';
export type { RecordingRepository, RecordingReportFacts, RecordingFacts, RecordingFilter, PageCursor, DeletionClaim, LockedRecording } from './ports.js';
export { createRecordingRepository, createRecordingReportFacts, createRecordingStoredText } from './recording-repository.js';
export { createRecordingDeleter, type DeleteRecordings, type DeletionReport } from './delete-recordings.js';
export { createPlayback, type Playback, type RecordingView, type OptOutCheck } from './playback.js';
