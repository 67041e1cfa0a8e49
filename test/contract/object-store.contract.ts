import { expect } from 'chai';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { RangeNotSatisfiable } from '../../src/shared/errors.js';
import { InvalidKey, ObjectNotFound, type ObjectStore } from '../../src/storage/object-store.js';

const MiB = 1024 * 1024;

export interface ContractHarness {
  store: ObjectStore;
  /** Files the adapter left behind besides objects (temp files), where it can tell. */
  strayFiles?(): Promise<string[]>;
  /**
   * Leaves in the store what a process killed in the middle of putting `key` would leave there (a temp
   * file, an unfinished multipart upload), last modified at `at`, through the adapter's own layout.
   */
  leaveCrashRemains(key: string, at: Date): Promise<void>;
  close(): Promise<void>;
}

export interface ContractOptions {
  /** The adapter's multipart part size, if it has one: the large round trip spans more than two parts. */
  partSize?: number;
  /**
   * Whether the backend makes create's test and write one step. s3rver ignores If-None-Match on PUT,
   * so concurrent creates there can each succeed (the header itself is checked with an SDK-level fake).
   */
  atomicCreate?: boolean;
}

/**
 * The behaviour every ObjectStore adapter must show. `make` builds a fresh harness for each test;
 * keys are unique per test, so harnesses may share a backend.
 */
export function objectStoreContract(make: () => Promise<ContractHarness>, options: ContractOptions = {}): void {
  let h: ContractHarness;
  let store: ObjectStore;

  beforeEach(async () => {
    h = await make();
    store = h.store;
  });
  afterEach(async () => {
    await h.close();
  });

  const newKey = (prefix = 'recordings'): string => `${prefix}/2024/05/01/${randomUUID()}`;

  it('returns exactly the bytes it stored, with size and content type', async () => {
    const key = newKey();
    const data = randomBytes(70_000);
    const put = await store.put(key, chunked(data, 8192), { contentType: 'audio/wav' });
    expect(put.bytes).to.equal(data.length);

    const got = await store.get(key);
    expect(got.bytes).to.equal(data.length);
    expect(got.totalBytes).to.equal(data.length);
    expect(got.contentType).to.equal('audio/wav');
    expect((await collect(got.body)).equals(data)).to.equal(true);
  });

  it('round-trips a large object byte for byte', async () => {
    const partSize = options.partSize ?? 5 * MiB;
    const data = randomBytes(Math.round(partSize * 2.4)); // three parts where the adapter uploads in parts
    const key = newKey();
    const put = await store.put(key, chunked(data, 64 * 1024), { contentType: 'audio/flac' });
    expect(put.bytes).to.equal(data.length);

    const got = await store.get(key);
    expect(got.totalBytes).to.equal(data.length);
    expect(sha256(await collect(got.body))).to.equal(sha256(data));
  });

  it('stores an empty object', async () => {
    const key = newKey();
    expect((await store.put(key, Readable.from([]), { contentType: 'audio/wav' })).bytes).to.equal(0);
    const got = await store.get(key);
    expect(got.totalBytes).to.equal(0);
    expect((await collect(got.body)).length).to.equal(0);
  });

  describe('byte ranges', () => {
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    let key: string;
    beforeEach(async () => {
      key = newKey();
      await store.put(key, chunked(data, 100), { contentType: 'audio/mpeg' });
    });

    it('reads from a start offset to the end', async () => {
      const got = await store.get(key, { start: 100 });
      expect(got.bytes).to.equal(900);
      expect(got.totalBytes).to.equal(1000);
      expect((await collect(got.body)).equals(data.subarray(100))).to.equal(true);
    });

    it('reads an inclusive start-end range', async () => {
      const got = await store.get(key, { start: 10, end: 19 });
      expect(got.bytes).to.equal(10);
      expect(got.totalBytes).to.equal(1000);
      expect(got.contentType).to.equal('audio/mpeg');
      expect((await collect(got.body)).equals(data.subarray(10, 20))).to.equal(true);
    });

    it('reads just the last byte', async () => {
      const got = await store.get(key, { start: 999, end: 999 });
      expect(got.bytes).to.equal(1);
      expect((await collect(got.body)).equals(data.subarray(999))).to.equal(true);
    });

    it('stops a range that runs past the end at the last byte', async () => {
      const got = await store.get(key, { start: 990, end: 5000 });
      expect(got.bytes).to.equal(10);
      expect(got.totalBytes).to.equal(1000);
      expect((await collect(got.body)).equals(data.subarray(990))).to.equal(true);
    });

    it('refuses a range that starts past the end', async () => {
      await expectRejection(store.get(key, { start: 1000 }), RangeNotSatisfiable);
    });

    it('refuses a range that ends before it starts', async () => {
      await expectRejection(store.get(key, { start: 20, end: 10 }), RangeNotSatisfiable);
    });
  });

  it('throws ObjectNotFound for a missing key, with or without a range', async () => {
    const key = newKey();
    const err = await expectRejection(store.get(key), ObjectNotFound);
    expect(err.key).to.equal(key);
    await expectRejection(store.get(key, { start: 0, end: 9 }), ObjectNotFound);
  });

  it('tells whether an object exists', async () => {
    const key = newKey();
    expect(await store.exists(key)).to.equal(false);
    await store.put(key, Readable.from([Buffer.from('x')]), { contentType: 'audio/wav' });
    expect(await store.exists(key)).to.equal(true);
    expect(await store.exists(key.slice(0, key.lastIndexOf('/')))).to.equal(false); // a "directory" is no object
  });

  it('deletes existing keys and counts missing ones as deleted', async () => {
    const a = newKey();
    const b = newKey();
    const missing = newKey();
    await store.put(a, Readable.from([Buffer.from('a')]), { contentType: 'audio/wav' });
    await store.put(b, Readable.from([Buffer.from('b')]), { contentType: 'audio/wav' });

    const result = await store.delete([a, missing, b]);
    expect(result.failed).to.deep.equal([]);
    expect([...result.deleted].sort()).to.deep.equal([a, b, missing].sort());
    expect(await store.exists(a)).to.equal(false);
    expect(await store.exists(b)).to.equal(false);
    await expectRejection(store.get(a), ObjectNotFound);
  });

  it('accepts an empty delete', async () => {
    expect(await store.delete([])).to.deep.equal({ deleted: [], failed: [] });
  });

  it('lists the keys under a prefix with their modification times', async () => {
    const run = `list-${randomUUID().slice(0, 8)}`;
    const inside = [`${run}/2024/05/01/a`, `${run}/2024/05/01/b`, `${run}/2024/05/02/c`];
    const outside = [`${run}-other/2024/05/01/d`, `${run}/2024/06/01/e`];
    const before = Date.now() - 60_000;
    for (const key of [...inside, ...outside]) {
      await store.put(key, Readable.from([Buffer.from(key)]), { contentType: 'audio/wav' });
    }

    const listed = await all(store.list(`${run}/2024/05/`));
    expect(listed.map((o) => o.key).sort()).to.deep.equal(inside);
    for (const o of listed) {
      expect(o.lastModified).to.be.instanceOf(Date);
      expect(o.lastModified.getTime()).to.be.within(before, Date.now() + 60_000);
    }
    expect((await all(store.list(`${run}/2024/05/01/`))).map((o) => o.key).sort()).to.deep.equal(inside.slice(0, 2));
    expect(await all(store.list(`${run}/2023/`))).to.deep.equal([]);
  });

  it('lists past one page (S3 pages 1000 keys): every key, once', async function () {
    this.timeout(60_000);
    const run = `pages-${randomUUID().slice(0, 8)}`;
    const keys = Array.from({ length: 1_003 }, (_, i) => `${run}/2024/05/01/k${String(i).padStart(4, '0')}`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((key) => store.create(key, Buffer.from('x'), { contentType: 'audio/wav' })));
    }
    const listed = (await all(store.list(`${run}/`))).map((o) => o.key);
    expect(listed).to.have.length(keys.length);
    expect([...listed].sort()).to.deep.equal(keys);
    await store.delete(keys);
  });

  it('leaves nothing at the key when the source fails before the end', async () => {
    const key = newKey();
    const err = await expectRejection(
      store.put(key, failingSource(100_000), { contentType: 'audio/wav' }),
      Error,
    );
    expect(err.message).to.match(/caller hung up/);
    await expectNothingAt(key);
  });

  it('leaves nothing at the key when the source fails after more than one part', async () => {
    const key = newKey();
    const err = await expectRejection(
      store.put(key, failingSource((options.partSize ?? 5 * MiB) + 512 * 1024), { contentType: 'audio/wav' }),
      Error,
    );
    expect(err.message).to.match(/caller hung up/);
    await expectNothingAt(key);
  });

  it('leaves nothing at the key when the source is destroyed without an error', async () => {
    const key = newKey();
    let sent = 0;
    const source = new Readable({
      read() {
        if (sent >= 3) return void this.destroy();
        sent += 1;
        this.push(randomBytes(16 * 1024));
      },
    });
    await expectRejection(store.put(key, source, { contentType: 'audio/wav' }), Error);
    await expectNothingAt(key);
  });

  describe('refuses keys that could escape the store', () => {
    for (const bad of ['../x', '/abs', 'a/../../b', '', 'recordings/..', 'recordings/./x', 'Recordings/x', 'a//b', 'a\\..\\b']) {
      it(`refuses ${JSON.stringify(bad)} for every operation`, async () => {
        const source = Readable.from([Buffer.from('x')]);
        await expectRejection(store.put(bad, source, { contentType: 'audio/wav' }), InvalidKey);
        expect(source.destroyed, 'put consumes or destroys its body').to.equal(true);
        await expectRejection(store.get(bad), InvalidKey);
        await expectRejection(store.exists(bad), InvalidKey);
        await expectRejection(store.delete([bad]), InvalidKey);
      });
    }

    it('refuses a prefix that climbs out', async () => {
      // list may refuse when called or when iterated; either way nothing is listed.
      await expectRejection((async () => all(store.list('../')))(), InvalidKey);
      await expectRejection((async () => all(store.list('recordings/../../')))(), InvalidKey);
    });
  });

  describe('create (never replaces)', () => {
    it('creates an object once and leaves it untouched when asked to create it again with other bytes', async () => {
      const key = newKey('audit-checkpoints');
      const original = Buffer.from('{"seq":60,"hash":"original"}\n');
      expect(await store.create(key, original, { contentType: 'application/json' })).to.deep.equal({ created: true });
      expect(await store.create(key, Buffer.from('{"seq":60,"hash":"forged"}\n'), { contentType: 'application/json' })).to.deep.equal({ created: false });
      const got = await store.get(key);
      expect(got.contentType).to.equal('application/json');
      expect((await collect(got.body)).equals(original)).to.equal(true);
      expect((await all(store.list('audit-checkpoints/'))).map((o) => o.key)).to.include(key);
      if (h.strayFiles) expect(await h.strayFiles()).to.deep.equal([]);
    });

    it('does not create over an object that put stored', async () => {
      const key = newKey();
      await store.put(key, Readable.from([Buffer.from('first')]), { contentType: 'text/plain' });
      expect((await store.create(key, Buffer.from('second'), { contentType: 'text/plain' })).created).to.equal(false);
      expect((await collect((await store.get(key)).body)).toString()).to.equal('first');
    });

    it('lets exactly one of several concurrent creates of one key win', async () => {
      const key = newKey('audit-checkpoints');
      const bodies = [0, 1, 2, 3].map((i) => Buffer.from(`candidate ${i}`));
      const results = await Promise.all(bodies.map((b) => store.create(key, b, { contentType: 'text/plain' })));
      const winners = results.flatMap((r, i) => (r.created ? [i] : []));
      if (options.atomicCreate ?? true) expect(winners, 'winners').to.have.length(1);
      const stored = await collect((await store.get(key)).body);
      if (winners.length === 1) expect(stored.equals(bodies[winners[0]!]!)).to.equal(true);
      else expect(bodies.some((b) => b.equals(stored)), 'the stored bytes are one whole candidate').to.equal(true);
    });

    it('refuses a key that climbs out', async () => {
      await expectRejection(store.create('audit-checkpoints/../x', Buffer.from('x'), { contentType: 'text/plain' }), InvalidKey);
    });
  });

  describe('crash leftovers', () => {
    const HOUR = 3_600_000;

    it('lists what a crash left under a prefix once older than the given time, and never an object', async () => {
      const run = `left-${randomUUID().slice(0, 8)}`;
      const object = `${run}/2024/05/01/${randomUUID()}`;
      const crashedOld = `${run}/2024/05/01/${randomUUID()}`;
      const crashedYoung = `${run}/2024/05/02/${randomUUID()}`;
      const elsewhere = `${run}-other/2024/05/01/${randomUUID()}`;
      await store.put(object, Readable.from([Buffer.from('kept')]), { contentType: 'audio/wav' });
      const now = Date.now();
      await h.leaveCrashRemains(crashedOld, new Date(now - 3 * HOUR));
      await h.leaveCrashRemains(crashedYoung, new Date(now - 60_000));
      await h.leaveCrashRemains(elsewhere, new Date(now - 3 * HOUR));

      const cutoff = new Date(now - HOUR);
      const found = await all(store.leftovers(`${run}/`, cutoff));
      expect(found.length, 'the old crash left something').to.be.greaterThan(0);
      for (const l of found) {
        expect(l.id.startsWith(`${run}/2024/05/01/`), l.id).to.equal(true);
        expect(l.id).to.not.equal(object);
        expect(['temp-file', 'sidecar', 'multipart-upload']).to.include(l.kind);
        expect(l.lastModified.getTime()).to.be.at.most(cutoff.getTime());
        if (l.key !== undefined) expect(l.key).to.equal(crashedOld);
      }
      // Everything, young ones too, once the cutoff is in the future; still no object.
      const everything = await all(store.leftovers(`${run}/`, new Date(now + HOUR)));
      expect(everything.length).to.be.greaterThan(found.length);
      expect(everything.map((l) => l.id)).to.not.include(object);
      expect(everything.some((l) => l.id.startsWith(`${run}-other/`))).to.equal(false);
    });

    it('removes leftovers, which are then neither listed nor removed twice, and leaves objects alone', async () => {
      const run = `left-${randomUUID().slice(0, 8)}`;
      const object = `${run}/2024/05/01/${randomUUID()}`;
      await store.put(object, Readable.from([Buffer.from('kept')]), { contentType: 'audio/wav' });
      await h.leaveCrashRemains(`${run}/2024/05/01/${randomUUID()}`, new Date(Date.now() - 3 * 3_600_000));
      const found = await all(store.leftovers(`${run}/`, new Date()));
      const ids = found.map((l) => l.id);
      expect(ids.length).to.be.greaterThan(0);

      const removed = await store.removeLeftovers(ids);
      expect(removed.failed).to.deep.equal([]);
      expect([...removed.deleted].sort()).to.deep.equal([...ids].sort());
      expect(await all(store.leftovers(`${run}/`, new Date(Date.now() + 3_600_000)))).to.deep.equal([]);
      // A removal repeated after a crash finds nothing and counts it as removed.
      expect(await store.removeLeftovers(ids)).to.deep.equal({ deleted: ids, failed: [] });
      expect((await collect((await store.get(object)).body)).toString()).to.equal('kept');
      expect((await all(store.list(`${run}/`))).map((o) => o.key)).to.deep.equal([object]);
    });

    it('refuses to remove an object, or anything outside the store, as a leftover', async () => {
      const key = newKey();
      await store.put(key, Readable.from([Buffer.from('kept')]), { contentType: 'audio/wav' });
      for (const bad of [key, '../x', 'recordings/../../etc/passwd', '', 'recordings/2024/05/01/.tmp-x/../../y']) {
        await expectRejection(store.removeLeftovers([bad]), InvalidKey);
      }
      expect(await store.exists(key)).to.equal(true);
      expect(await store.removeLeftovers([])).to.deep.equal({ deleted: [], failed: [] });
    });

    it('lists nothing where no crash left anything', async () => {
      const run = `left-${randomUUID().slice(0, 8)}`;
      await store.put(`${run}/2024/05/01/${randomUUID()}`, Readable.from([Buffer.from('x')]), { contentType: 'audio/wav' });
      expect(await all(store.leftovers(`${run}/`, new Date(Date.now() + 3_600_000)))).to.deep.equal([]);
    });
  });

  it('answers ping', async () => {
    await store.ping();
  });

  async function expectNothingAt(key: string): Promise<void> {
    expect(await store.exists(key)).to.equal(false);
    await expectRejection(store.get(key), ObjectNotFound);
    const dir = key.slice(0, key.lastIndexOf('/') + 1);
    expect((await all(store.list(dir))).map((o) => o.key)).to.not.include(key);
    if (h.strayFiles) expect(await h.strayFiles()).to.deep.equal([]);
  }
}

function chunked(data: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) parts.push(data.subarray(i, i + size));
  return Readable.from(parts);
}

/** Sends `bytesBefore` random bytes, then fails as a dropped upload would. */
function failingSource(bytesBefore: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= bytesBefore) return void this.destroy(new Error('caller hung up'));
      const n = Math.min(64 * 1024, bytesBefore - sent);
      sent += n;
      this.push(randomBytes(n));
    },
  });
}

async function collect(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

async function expectRejection<E extends Error>(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => E,
): Promise<E> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(type);
    return err as E;
  }
  expect.fail(`expected a rejection with ${type.name}`);
}
