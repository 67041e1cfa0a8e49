import { randomUUID } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { access, link, lstat, mkdir, open, readdir, readFile, realpath, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RangeNotSatisfiable } from '../shared/errors.js';
import {
  assertValidKey,
  InvalidKey,
  ObjectNotFound,
  type ByteRange,
  type DeleteResult,
  type Leftover,
  type ObjectStore,
  type StoredObject,
} from './object-store.js';

const TMP_PREFIX = '.tmp-';
const META_SUFFIX = '.meta.json';
const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/**
 * The embedded default: objects are files under `root`, the content type in a `<file>.meta.json`
 * sidecar. Writes go to a `.tmp-*` file in the final directory, are fsynced and renamed into place,
 * then the directory is fsynced, so a crash leaves either the whole object or nothing at the key.
 */
export function createFsObjectStore(opts: { root: string }): ObjectStore {
  const root = path.resolve(opts.root);
  let realRoot: Promise<string> | undefined;

  /** The root's real path, created on first use; retried after a failure. */
  function rootReal(): Promise<string> {
    realRoot ??= mkdir(root, { recursive: true })
      .then(() => realpath(root))
      .catch((err: unknown) => {
        realRoot = undefined;
        throw err;
      });
    return realRoot;
  }

  /** The lexical path of a key; refuses invalid keys, reserved file names and anything outside root. */
  function pathOf(key: string): string {
    assertValidKey(key);
    const last = key.slice(key.lastIndexOf('/') + 1);
    if (last.startsWith(TMP_PREFIX) || last.endsWith(META_SUFFIX)) throw new InvalidKey(key);
    const file = path.resolve(root, ...key.split('/'));
    if (!isInside(root, file)) throw new InvalidKey(key);
    return file;
  }

  /**
   * The file a leftover id names: a temp file or a sidecar under the root, nothing else. Object keys
   * can never be such names (pathOf refuses them), so no id here can name an object.
   */
  function leftoverPathOf(id: string): { file: string; kind: 'temp-file' | 'sidecar' } {
    assertValidKey(id);
    const last = id.slice(id.lastIndexOf('/') + 1);
    const file = path.resolve(root, ...id.split('/'));
    if (!isInside(root, file)) throw new InvalidKey(id);
    if (last.startsWith(TMP_PREFIX)) return { file, kind: 'temp-file' };
    if (last.endsWith(META_SUFFIX) && last.length > META_SUFFIX.length) return { file, kind: 'sidecar' };
    throw new InvalidKey(id);
  }

  /** Refuses a path whose real location (symlinks followed) is outside the real root. */
  async function assertContained(key: string, existing: string): Promise<void> {
    const [base, real] = await Promise.all([rootReal(), realpath(existing)]);
    if (!isInside(base, real)) throw new InvalidKey(key);
  }

  /**
   * Creates `dir` one level at a time, checking each level's real path before creating anything in it,
   * so a symlink out of the root cannot make a directory appear elsewhere.
   */
  async function ensureDir(key: string, dir: string): Promise<void> {
    const base = await rootReal();
    let current = root;
    for (const segment of path.relative(root, dir).split(path.sep).filter(Boolean)) {
      current = path.join(current, segment);
      try {
        await mkdir(current);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      if (!isInside(base, await realpath(current))) throw new InvalidKey(key);
    }
  }

  async function readContentType(file: string): Promise<string> {
    try {
      const meta = JSON.parse(await readFile(file + META_SUFFIX, 'utf8')) as { contentType?: unknown };
      return typeof meta.contentType === 'string' ? meta.contentType : DEFAULT_CONTENT_TYPE;
    } catch (err) {
      if (isMissing(err) || err instanceof SyntaxError) return DEFAULT_CONTENT_TYPE;
      throw err;
    }
  }

  return {
    async put(key: string, body: Readable, meta: { contentType: string }): Promise<{ bytes: number }> {
      let file: string;
      try {
        file = pathOf(key);
      } catch (err) {
        body.destroy(); // put owns the body: a refused key must not leave the sender stalled
        throw err;
      }
      const dir = path.dirname(file);
      const tmpData = path.join(dir, `${TMP_PREFIX}${randomUUID()}`);
      const tmpMeta = path.join(dir, `${TMP_PREFIX}${randomUUID()}`);
      let bytes = 0;
      let sidecarPlaced = false;
      try {
        await ensureDir(key, dir);

        const fh = await open(tmpData, 'wx', 0o600);
        try {
          const counter = new Transform({
            transform(chunk: Buffer, _enc, done) {
              bytes += chunk.length;
              done(null, chunk);
            },
          });
          // flush: the stream fsyncs the file before it closes it, and pipeline waits for the close.
          await pipeline(body, counter, fh.createWriteStream({ flush: true }));
        } finally {
          await fh.close(); // a no-op once the stream has closed it
        }

        await writeFileDurably(tmpMeta, JSON.stringify({ contentType: meta.contentType }));
        await rename(tmpMeta, file + META_SUFFIX);
        sidecarPlaced = true;
        // The data rename is the commit point: before it nothing is at the key.
        await rename(tmpData, file);
        await fsyncDir(dir);
        return { bytes };
      } catch (err) {
        body.destroy();
        await Promise.all([rm(tmpData, { force: true }), rm(tmpMeta, { force: true })]).catch(() => undefined);
        if (sidecarPlaced) await rm(file + META_SUFFIX, { force: true }).catch(() => undefined);
        throw err;
      }
    },

    async create(key: string, body: Buffer, meta: { contentType: string; retainUntil?: Date }): Promise<{ created: boolean }> {
      const file = pathOf(key);
      const dir = path.dirname(file);
      const tmpData = path.join(dir, `${TMP_PREFIX}${randomUUID()}`);
      const tmpMeta = path.join(dir, `${TMP_PREFIX}${randomUUID()}`);
      try {
        await ensureDir(key, dir);
        await writeFileDurably(tmpData, body);
        // link() fails with EEXIST when the name is taken: the exclusive create of a file that is
        // already complete, so no reader ever sees it half written and nothing is ever replaced.
        try {
          await link(tmpData, file);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { created: false };
          throw err;
        }
        await writeFileDurably(tmpMeta, JSON.stringify({ contentType: meta.contentType }));
        await rename(tmpMeta, file + META_SUFFIX);
        await fsyncDir(dir);
        return { created: true };
      } finally {
        await Promise.all([rm(tmpData, { force: true }), rm(tmpMeta, { force: true })]).catch(() => undefined);
      }
    },

    async get(key: string, range?: ByteRange): Promise<StoredObject> {
      const file = pathOf(key);
      let fh: FileHandle;
      try {
        await assertContained(key, file);
        fh = await open(file, 'r');
      } catch (err) {
        if (isMissing(err)) throw new ObjectNotFound(key);
        throw err;
      }
      try {
        const info = await fh.stat();
        if (!info.isFile()) throw new ObjectNotFound(key);
        const totalBytes = info.size;
        const contentType = await readContentType(file);
        if (!range) {
          return { body: fh.createReadStream(), bytes: totalBytes, totalBytes, contentType };
        }
        const { start, end } = satisfiable(range, totalBytes);
        return { body: fh.createReadStream({ start, end }), bytes: end - start + 1, totalBytes, contentType };
      } catch (err) {
        await fh.close();
        throw err;
      }
    },

    async delete(keys: string[]): Promise<DeleteResult> {
      const files = keys.map((key) => [key, pathOf(key)] as const);
      const result: DeleteResult = { deleted: [], failed: [] };
      for (const [key, file] of new Map(files)) {
        try {
          const dir = path.dirname(file);
          try {
            await assertContained(key, dir);
          } catch (err) {
            if (isMissing(err)) {
              result.deleted.push(key);
              continue;
            }
            throw err;
          }
          await rm(file, { force: true });
          await rm(file + META_SUFFIX, { force: true });
          await fsyncDir(dir);
          if (await present(file)) result.failed.push({ key, error: 'still present after delete' });
          else result.deleted.push(key);
        } catch (err) {
          result.failed.push({ key, error: describe(err) });
        }
      }
      return result;
    },

    async exists(key: string): Promise<boolean> {
      const file = pathOf(key);
      try {
        await assertContained(key, file);
        return (await stat(file)).isFile();
      } catch (err) {
        if (isMissing(err)) return false;
        throw err;
      }
    },

    list(prefix: string): AsyncIterable<{ key: string; lastModified: Date }> {
      const start = startOf(prefix);
      return (async function* () {
        for await (const f of files(start.dir, start.dirKey, prefix)) {
          if (f.name.startsWith(TMP_PREFIX) || f.name.endsWith(META_SUFFIX)) continue;
          const lastModified = await mtimeOf(f.full);
          if (lastModified) yield { key: f.key, lastModified };
        }
      })();
    },

    leftovers(prefix: string, olderThan: Date): AsyncIterable<Leftover> {
      const start = startOf(prefix);
      return (async function* () {
        for await (const f of files(start.dir, start.dirKey, prefix)) {
          let leftover: Omit<Leftover, 'lastModified'>;
          if (f.name.startsWith(TMP_PREFIX)) {
            leftover = { id: f.key, kind: 'temp-file' };
          } else if (f.name.endsWith(META_SUFFIX)) {
            // A sidecar is a leftover only without its data file: a put that died between the two
            // renames, or a delete that died between the two unlinks.
            if (await present(f.full.slice(0, -META_SUFFIX.length))) continue;
            leftover = { id: f.key, kind: 'sidecar', key: f.key.slice(0, -META_SUFFIX.length) };
          } else {
            continue;
          }
          const lastModified = await mtimeOf(f.full);
          if (lastModified && lastModified.getTime() <= olderThan.getTime()) yield { ...leftover, lastModified };
        }
      })();
    },

    async removeLeftovers(ids: string[]): Promise<DeleteResult> {
      const targets = new Map(ids.map((id) => [id, leftoverPathOf(id)] as const));
      const result: DeleteResult = { deleted: [], failed: [] };
      for (const [id, { file, kind }] of targets) {
        try {
          const dir = path.dirname(file);
          try {
            await assertContained(id, dir);
          } catch (err) {
            if (isMissing(err)) {
              result.deleted.push(id);
              continue;
            }
            throw err;
          }
          if (kind === 'sidecar' && (await present(file.slice(0, -META_SUFFIX.length)))) {
            // Not a leftover (a put finishes its sidecar and data within moments): never taken from a stored object.
            result.failed.push({ key: id, error: 'its object is stored' });
            continue;
          }
          await rm(file, { force: true });
          await fsyncDir(dir);
          if (await present(file)) result.failed.push({ key: id, error: 'still present after removal' });
          else result.deleted.push(id);
        } catch (err) {
          result.failed.push({ key: id, error: describe(err) });
        }
      }
      return result;
    },

    async ping(): Promise<void> {
      await rootReal();
      await access(root, fsConstants.R_OK | fsConstants.W_OK | fsConstants.X_OK);
    },
  };

  /** Where a listing of `prefix` starts: the deepest directory the prefix names whole. */
  function startOf(prefix: string): { dir: string; dirKey: string } {
    assertValidPrefix(prefix);
    const dirKey = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const dir = dirKey ? path.resolve(root, ...dirKey.split('/')) : root;
    if (!isInside(root, dir) && dir !== root) throw new InvalidKey(prefix);
    return { dir, dirKey };
  }

  /**
   * Every regular file under `dir` (whose key is `dirKey`) whose key starts with `prefix`, temp files
   * and sidecars included, in S3's byte order.
   */
  async function* files(dir: string, dirKey: string, prefix: string): AsyncGenerator<{ key: string; name: string; full: string }> {
    let entries;
    try {
      if (dir !== root) await assertContained(prefix, dir);
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (isMissing(err)) return;
      throw err;
    }
    const sortName = (e: { name: string; isDirectory(): boolean }) => (e.isDirectory() ? `${e.name}/` : e.name);
    entries.sort((a, b) => (sortName(a) < sortName(b) ? -1 : sortName(a) > sortName(b) ? 1 : 0));
    for (const entry of entries) {
      const key = dirKey ? `${dirKey}/${entry.name}` : entry.name;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        // Descend only where a key below could still match the prefix; the store never makes temp directories.
        if (entry.name.startsWith(TMP_PREFIX)) continue;
        if (`${key}/`.startsWith(prefix) || prefix.startsWith(`${key}/`)) yield* files(full, key, prefix);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        yield { key, name: entry.name, full };
      }
      // Symlinks and other special files are never objects.
    }
  }
}

/** A file's mtime, or undefined when it was removed meanwhile. */
async function mtimeOf(file: string): Promise<Date | undefined> {
  try {
    return (await lstat(file)).mtime;
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

function assertValidPrefix(prefix: string): void {
  if (prefix === '') return;
  try {
    assertValidKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  } catch {
    throw new InvalidKey(prefix);
  }
}

function isInside(base: string, candidate: string): boolean {
  const rel = path.relative(base, candidate);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

function satisfiable(range: ByteRange, totalBytes: number): { start: number; end: number } {
  const { start } = range;
  const end = Math.min(range.end ?? totalBytes - 1, totalBytes - 1);
  if (!Number.isSafeInteger(start) || start < 0 || start >= totalBytes || (range.end !== undefined && range.end < start)) {
    throw new RangeNotSatisfiable('range-not-satisfiable', `bytes=${start}-${range.end ?? ''} is outside the object`, {
      totalBytes,
    });
  }
  return { start, end };
}

async function writeFileDurably(file: string, content: string | Buffer): Promise<void> {
  const fh = await open(file, 'wx', 0o600);
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Makes renames and unlinks in `dir` durable. Some platforms refuse to fsync a directory; that is not an error. */
async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw err;
  } finally {
    await fh?.close();
  }
}

async function present(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function describe(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code ?? (err instanceof Error ? err.message : String(err));
}
