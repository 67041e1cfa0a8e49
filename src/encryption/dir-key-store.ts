import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { KEK_ID } from './periods.js';
import type { KeyStore } from './ports.js';

const KEY_BYTES = 32;

/**
 * Key-encryption keys as files in one directory (KEY_STORE_DIR), mode 0600: for a single instance.
 * Made by an exclusive link (the first writer wins), destroyed by overwriting, unlinking and syncing
 * the directory. On copy-on-write or journaling media an overwrite may not reach the old blocks; the
 * key store belongs on a volume that is not snapshotted with the data (docs/operations.md).
 */
export function createDirKeyStore(dir: string): KeyStore {
  let ready: Promise<void> | undefined;
  const ensure = () => (ready ??= fs.mkdir(dir, { recursive: true, mode: 0o700 }).then(() => undefined));
  const fileOf = (id: string) => {
    if (!KEK_ID.test(id)) throw new Error(`refused key id ${JSON.stringify(id)}`);
    return path.join(dir, `${id}.key`);
  };
  const syncDir = async () => {
    const h = await fs.open(dir, constants.O_RDONLY);
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  };
  const read = async (id: string): Promise<Buffer | null> => {
    try {
      const key = await fs.readFile(fileOf(id));
      if (key.length !== KEY_BYTES) throw new Error(`key ${id} in ${dir} is not ${KEY_BYTES} bytes`);
      return key;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  };
  return {
    read: async (id) => (await ensure(), read(id)),
    async obtain(id) {
      await ensure();
      const have = await read(id);
      if (have) return have;
      const final = fileOf(id);
      const temp = path.join(dir, `.${id}.${randomBytes(6).toString('hex')}.tmp`);
      const h = await fs.open(temp, 'wx', 0o600);
      try {
        await h.writeFile(randomBytes(KEY_BYTES));
        await h.sync();
      } finally {
        await h.close();
      }
      try {
        await fs.link(temp, final);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      } finally {
        await fs.unlink(temp);
      }
      await syncDir();
      return (await read(id))!;
    },
    async destroy(id) {
      await ensure();
      const file = fileOf(id);
      let h;
      try {
        h = await fs.open(file, 'r+');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      try {
        await h.write(randomBytes(KEY_BYTES), 0, KEY_BYTES, 0);
        await h.sync();
      } finally {
        await h.close();
      }
      await fs.unlink(file).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      await syncDir();
    },
    async list() {
      await ensure();
      return (await fs.readdir(dir)).filter((f) => f.endsWith('.key')).map((f) => f.slice(0, -4)).sort();
    },
    async close() {},
  };
}
