import { Readable } from 'node:stream';
import { ObjectNotFound, type DeleteResult, type Leftover, type ObjectStore, type StoredObject } from '../../src/storage/index.js';

/** The object-store port in memory. `failDeletes` makes `delete` report these keys as failed. */
export class MemoryObjectStore implements ObjectStore {
  objects = new Map<string, { body: Buffer; contentType: string; at: Date }>();
  failDeletes = new Set<string>();
  async put(key: string, body: Readable, meta: { contentType: string }): Promise<{ bytes: number }> {
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(Buffer.from(c as Buffer));
    const buf = Buffer.concat(chunks);
    this.objects.set(key, { body: buf, contentType: meta.contentType, at: new Date() });
    return { bytes: buf.length };
  }
  async create(key: string, body: Buffer, meta: { contentType: string }): Promise<{ created: boolean }> {
    if (this.objects.has(key)) return { created: false };
    this.objects.set(key, { body, contentType: meta.contentType, at: new Date() });
    return { created: true };
  }
  async get(key: string, range?: { start: number; end?: number }): Promise<StoredObject> {
    const o = this.objects.get(key);
    if (!o) throw new ObjectNotFound(key);
    const part = range ? o.body.subarray(range.start, range.end === undefined ? undefined : range.end + 1) : o.body;
    return { body: Readable.from([part]), bytes: part.length, totalBytes: o.body.length, contentType: o.contentType };
  }
  async delete(keys: string[]): Promise<DeleteResult> {
    const out: DeleteResult = { deleted: [], failed: [] };
    for (const key of keys) {
      if (this.failDeletes.has(key)) out.failed.push({ key, error: 'refused' });
      else {
        this.objects.delete(key);
        out.deleted.push(key);
      }
    }
    return out;
  }
  async exists(key: string): Promise<boolean> {
    return this.objects.has(key);
  }
  async *list(prefix: string): AsyncIterable<{ key: string; lastModified: Date }> {
    for (const [key, o] of this.objects) if (key.startsWith(prefix)) yield { key, lastModified: o.at };
  }
  async *leftovers(): AsyncIterable<Leftover> {}
  async removeLeftovers(): Promise<DeleteResult> {
    return { deleted: [], failed: [] };
  }
  async ping(): Promise<void> {}
}
