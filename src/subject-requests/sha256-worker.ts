import { Worker } from 'node:worker_threads';

// Plain CommonJS for an eval'd worker: it needs nothing of the app, and no loader.
const SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'update') {
    let h = hashes.get(m.id);
    if (!h) hashes.set(m.id, (h = createHash('sha256')));
    h.update(new Uint8Array(m.data));
    parentPort.postMessage({ op: 'ack', bytes: m.data.byteLength });
  } else {
    const h = hashes.get(m.id) || createHash('sha256');
    hashes.delete(m.id);
    parentPort.postMessage({ op: 'digest', id: m.id, hex: h.digest('hex') });
  }
});
`;

export interface Sha256Worker {
  /** Hands a copy of `chunk` to the worker; waits only while too many bytes are still unhashed. */
  update(id: string, chunk: Buffer): Promise<void>;
  /** The digest of everything handed over for `id` so far. */
  digest(id: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * SHA-256 on a worker thread. A register extract hashes every byte twice (each file for SHA256SUMS,
 * the whole package for its audit entry) on top of the CRC-32 the ZIP format needs; done on the event
 * loop that would halve the package's throughput, on another core it costs one copy of each chunk.
 * At most `maxUnhashed` bytes wait for the worker, so a slow worker slows the package instead of
 * growing memory.
 */
export function createSha256Worker(maxUnhashed = 16 * 1024 * 1024): Sha256Worker {
  const worker = new Worker(SOURCE, { eval: true });
  let unhashed = 0;
  let failure: Error | undefined;
  const waiting: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  const digests = new Map<string, { resolve: (hex: string) => void; reject: (e: Error) => void }>();
  worker.on('message', (m: { op: 'ack'; bytes: number } | { op: 'digest'; id: string; hex: string }) => {
    if (m.op === 'ack') {
      unhashed -= m.bytes;
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

  return {
    async update(id, chunk) {
      if (failure) throw failure;
      // A copy of exactly this chunk, transferred: a view into a larger buffer would clone all of it.
      const data = chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.byteLength);
      worker.postMessage({ op: 'update', id, data }, [data as ArrayBuffer]);
      unhashed += chunk.byteLength;
      if (unhashed >= maxUnhashed) await new Promise<void>((resolve, reject) => waiting.push({ resolve, reject }));
    },
    digest(id) {
      if (failure) return Promise.reject(failure);
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
