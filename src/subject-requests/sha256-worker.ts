import { Worker } from 'node:worker_threads';

// Plain CommonJS for an eval'd worker: it needs nothing of the app, and no loader.
// Each batch comes back to the main thread once hashed, to be filled again.
const SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'update') {
    let h = hashes.get(m.id);
    if (!h) hashes.set(m.id, (h = createHash('sha256')));
    h.update(new Uint8Array(m.data, 0, m.length));
    parentPort.postMessage({ op: 'ack', data: m.data, length: m.length }, [m.data]);
  } else {
    const h = hashes.get(m.id) || createHash('sha256');
    hashes.delete(m.id);
    parentPort.postMessage({ op: 'digest', id: m.id, hex: h.digest('hex') });
  }
});
`;

export interface Sha256Worker {
  /** Copies `chunk` for the worker; waits only while too many bytes are still unhashed. */
  update(id: string, chunk: Buffer): Promise<void>;
  /** The digest of everything handed over for `id` so far. */
  digest(id: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * SHA-256 on a worker thread. A register extract hashes every byte twice (each file for SHA256SUMS,
 * the whole package for its audit entry) on top of the CRC-32 the ZIP format needs; done on the event
 * loop that would halve the package's throughput, on another core it costs one copy of each byte.
 *
 * Chunks are copied into batches of `batchBytes` and a batch goes to the worker when it is full (or
 * its digest is asked for): a message per 64 KiB chunk cost the event loop more than hashing it there
 * would. Batches are transferred, not cloned, and come back once hashed, so the same few buffers are
 * reused. At most `maxUnhashed` bytes wait for the worker, so a slow worker slows the package instead
 * of growing memory.
 */
export function createSha256Worker(opts: { maxUnhashed?: number; batchBytes?: number } = {}): Sha256Worker {
  const maxUnhashed = opts.maxUnhashed ?? 16 * 1024 * 1024;
  const batchBytes = opts.batchBytes ?? 1024 * 1024;
  const worker = new Worker(SOURCE, { eval: true });
  let unhashed = 0;
  let failure: Error | undefined;
  const waiting: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  const digests = new Map<string, { resolve: (hex: string) => void; reject: (e: Error) => void }>();
  /** The batch being filled for each id. */
  const filling = new Map<string, { data: Uint8Array; length: number }>();
  /** Batches back from the worker, ready to be filled again. */
  const spare: ArrayBuffer[] = [];

  worker.on('message', (m: { op: 'ack'; data: ArrayBuffer; length: number } | { op: 'digest'; id: string; hex: string }) => {
    if (m.op === 'ack') {
      unhashed -= m.length;
      spare.push(m.data);
      while (unhashed < maxUnhashed && waiting.length) waiting.shift()!.resolve();
    } else {
      digests.get(m.id)?.resolve(m.hex);
      digests.delete(m.id);
    }
  });
  const fail = (err: Error) => {
    failure = err;
    for (const w of waiting.splice(0)) w.reject(err);
    for (const d of digests.values()) d.reject(err);
    digests.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the hashing worker stopped (exit code ${code})`)));

  /** Sends the batch being filled for `id`, if it holds anything. */
  const send = (id: string) => {
    const batch = filling.get(id);
    if (!batch || batch.length === 0) return;
    filling.delete(id);
    const data = batch.data.buffer as ArrayBuffer;
    worker.postMessage({ op: 'update', id, data, length: batch.length }, [data]);
    unhashed += batch.length;
  };

  return {
    async update(id, chunk) {
      if (failure) throw failure;
      for (let at = 0; at < chunk.length; ) {
        let batch = filling.get(id);
        if (!batch) filling.set(id, (batch = { data: new Uint8Array(spare.pop() ?? new ArrayBuffer(batchBytes)), length: 0 }));
        const n = Math.min(chunk.length - at, batch.data.length - batch.length);
        batch.data.set(chunk.subarray(at, at + n), batch.length);
        batch.length += n;
        at += n;
        if (batch.length === batch.data.length) send(id);
      }
      // Only bytes already sent count: those are the ones the worker will answer for.
      if (unhashed >= maxUnhashed) await new Promise<void>((resolve, reject) => waiting.push({ resolve, reject }));
    },
    digest(id) {
      if (failure) return Promise.reject(failure);
      send(id);
      return new Promise((resolve, reject) => {
        digests.set(id, { resolve, reject });
        worker.postMessage({ op: 'digest', id });
      });
    },
    async close() {
      worker.removeAllListeners('exit');
      await worker.terminate();
    },
  };
}
