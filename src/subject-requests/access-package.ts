import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { ZipFile } from 'yazl';
import type { AuditLog } from '../audit-log/index.js';
import type { Clock } from '../shared/clock.js';
import type { Transact, Tx } from '../shared/transaction.js';
import { Conflict } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { identifierHoldsPhoneNumber, maskPhoneNumbers } from '../shared/phone-number-text.js';
import type { ObjectStore } from '../storage/index.js';
import { createSha256Worker, type Sha256Worker } from './sha256-worker.js';
import type { CaseRecordings } from './ports.js';
import type { SubjectRequests } from './subject-requests.js';
import { summaryHtml, summaryJson, type ExtractPolicy, type PackageCall } from './summary.js';
import { receiptFiles, receiptsHtml, type CallReceipt, type ReceiptSource } from './receipts-package.js';

const EXTENSIONS: Record<string, string> = {
  'audio/mpeg': 'mp3',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/flac': 'flac',
  'audio/ogg': 'opus',
  'audio/opus': 'opus',
};

export interface PackageProgress {
  file: string;
  /** 1-based index among the audio files, and how many there are. */
  index: number;
  total: number;
}

export interface AccessPackage {
  filename: string;
  /** The ZIP, produced as it is read; it ends only after the audit entry naming its SHA-256 is committed. */
  stream: Readable;
  files: number;
  recordings: number;
}

/** Hashes each chunk (on the worker) as it passes; the digest once the stream has ended. */
function hashing(hasher: Sha256Worker, id: string, onDigest: (hex: string, bytes: number) => void): Transform {
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      hasher.update(id, chunk).then(() => cb(null, chunk), cb);
    },
    flush(cb) {
      hasher.digest(id).then((hex) => onDigest(hex, bytes)).then(() => cb(), cb);
    },
  });
}

/**
 * Holds back the last chunk until `onEnd` has resolved: the ZIP's central directory is at its end, so
 * a package whose audit entry could not be written reaches the client truncated and unreadable.
 */
function auditedEnd(hasher: Sha256Worker, onEnd: (sha256: string, bytes: number) => Promise<void>): Transform {
  let bytes = 0;
  let last: Buffer | undefined;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      const previous = last;
      last = chunk;
      hasher.update(PACKAGE, chunk).then(() => cb(null, previous), cb);
    },
    flush(cb) {
      hasher
        .digest(PACKAGE)
        .then((hex) => onEnd(hex, bytes))
        .then(() => cb(null, last), cb);
    },
  });
}

const PACKAGE = 'package';

const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100);
/** A call id as part of a file name: never a number, even one stored before call ids were checked. */
const callIdInFileName = (callId: string) => safe(identifierHoldsPhoneNumber(callId) ? maskPhoneNumbers(callId) : callId);

/**
 * The register extract (art. 15) as a streaming ZIP: sammanstallning.html, uppgifter.json, every stored
 * recording byte for byte (each checked against its SHA-256 while it streams), and SHA256SUMS over all
 * of them. One recording is read from the store at a time; nothing is built in full in memory or on disk.
 */
export function createAccessPackages(deps: {
  requests: SubjectRequests;
  recordings: CaseRecordings;
  store: ObjectStore;
  audit: AuditLog;
  transaction: Transact;
  clock: Clock;
  logger: Logger;
  /** The controller and the retention period the extract states. */
  policy: ExtractPolicy;
  /** Receipts of each listed call's `recording.ingested` entry (kvitton/); none when absent. */
  receipts?: ReceiptSource;
}) {
  const { requests, recordings: recordingRows, store, audit, transaction, clock, logger, policy } = deps;

  return {
    async open(id: string, actor: string, opts: { onProgress?: (p: PackageProgress) => void } = {}): Promise<AccessPackage> {
      const c = await requests.load(id);
      if (c.kind !== 'access') throw new Conflict('wrong-kind', `A register extract belongs to an access case; this one is ${c.kind}`, { kind: c.kind });
      if (c.status === 'closed') throw new Conflict('subject-request-closed', `Case ${c.id} is closed; its caller is no longer known`, { status: c.status });
      const now = clock.now();
      const d = await requests.details(c, now);
      const storedIds = d.calls.filter((x) => x.state === 'stored' || x.state === 'held').map((x) => x.recordingId);
      const recordings = new Map((await recordingRows.findByIds(storedIds)).map((r) => [r.id, r]));
      const used = new Set<string>();
      const calls: PackageCall[] = d.calls.map((x) => {
        const r = recordings.get(x.recordingId);
        if (!r || r.status !== 'stored' || !r.storageKey) return { ...x, file: null };
        let file = `inspelningar/${x.local.date}_${x.local.time.replace(/:/g, '.')}-${callIdInFileName(x.callId)}.${EXTENSIONS[r.contentType ?? ''] ?? 'bin'}`;
        for (let n = 2; used.has(file); n++) file = file.replace(/(\.[a-z0-9]+)$/, `-${n}$1`);
        used.add(file);
        return { ...x, file };
      });

      // Made before the ZIP starts: a receipt that cannot be made yet (no signed head covers it) refuses the extract.
      const receipts: CallReceipt[] = [];
      if (deps.receipts) {
        for (const x of receiptFiles(d.calls)) {
          const receipt = await deps.receipts.ingestOf(x.recordingId);
          if (receipt) receipts.push({ callId: x.callId, recordingId: x.recordingId, file: x.file, receipt });
        }
      }

      const hasher = createSha256Worker();
      const zip = new ZipFile();
      const out = zip.outputStream as unknown as Readable;
      const sums: string[] = [];
      const fail = (err: Error) => out.destroy(err);
      const addBuffer = (name: string, text: string) => {
        const buf = Buffer.from(text, 'utf8');
        sums.push(`${createHash('sha256').update(buf).digest('hex')}  ${name}`);
        zip.addBuffer(buf, name, { mtime: now, compress: true });
      };
      addBuffer('sammanstallning.html', summaryHtml(d, calls, now, policy));
      addBuffer('uppgifter.json', summaryJson(d, calls, now, policy));
      if (deps.receipts) {
        addBuffer('kvitton.html', receiptsHtml(receipts, 'ingested', deps.receipts, now));
        for (const r of receipts) addBuffer(r.file, r.receipt.tlogProof);
      }

      const audio = calls.filter((x) => x.file);
      let audioBytes = 0;
      audio.forEach((x, i) => {
        const r = recordings.get(x.recordingId)!;
        zip.addReadStreamLazy(x.file!, { size: r.bytes ?? undefined, compress: false, mtime: new Date(r.startedAt) }, (cb) => {
          opts.onProgress?.({ file: x.file!, index: i + 1, total: audio.length });
          store.get(r.storageKey!).then(
            (obj) => {
              const check = hashing(hasher, x.recordingId, (hex, bytes) => {
                if (r.sha256 && hex !== r.sha256) throw new Error(`recording ${r.id} does not match its SHA-256 in the store`);
                sums.push(`${hex}  ${x.file}`);
                audioBytes += bytes;
              });
              obj.body.on('error', fail);
              check.on('error', fail);
              cb(null, obj.body.pipe(check));
            },
            (err: Error) => fail(err),
          );
        });
      });
      // Last, and lazily: its content is known only once every file before it has streamed.
      zip.addReadStreamLazy('SHA256SUMS', { compress: true, mtime: now }, (cb) => {
        const body = Buffer.from(sums.join('\n') + '\n', 'utf8');
        cb(null, Readable.from([body]));
      });
      zip.end();
      zip.on('error', fail);

      const files = 3 + audio.length + (deps.receipts ? 1 + receipts.length : 0);
      const packaged = out.pipe(
        auditedEnd(hasher, async (sha256, bytes) => {
          await transaction((trx) =>
            audit.append(trx, {
              actor,
              action: 'subject-request.package',
              subject: `subject-request:${c.id}`,
              details: { requestId: c.id, files, recordings: audio.length, audioBytes, packageBytes: bytes, packageSha256: sha256 },
            }),
          );
          logger.info('register extract produced', { requestId: c.id, recordings: audio.length, packageBytes: bytes });
        }),
      );
      out.on('error', (err) => packaged.destroy(err));
      packaged.once('close', () => void hasher.close());
      return { filename: `registerutdrag-${c.id}.zip`, stream: packaged, files, recordings: audio.length };
    },
  };
}

export type AccessPackages = ReturnType<typeof createAccessPackages>;
