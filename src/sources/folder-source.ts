import { lstat, open, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { SourceItemGone, SourceUnreachable, type SourceAdapter, type SourceEntry } from './ports.js';

/**
 * A local or mounted directory (a PBX's spool folder, a share it writes to). Paths are relative to the
 * root; one that resolves outside it is refused. Errors carry the errno code, never a path.
 */
export function createFolderSource(opts: { root: string }): SourceAdapter {
  const root = path.resolve(opts.root);
  const inside = (rel: string): string => {
    const full = path.resolve(root, rel);
    if (full !== root && !full.startsWith(root + path.sep)) throw new SourceItemGone('a path outside the source folder');
    return full;
  };

  async function walk(dir: string, rel: string, out: SourceEntry[]): Promise<void> {
    for (const d of await readdir(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) await walk(path.join(dir, d.name), r, out);
      else if (d.isFile()) {
        try {
          const st = await lstat(path.join(dir, d.name));
          out.push({ path: r, size: st.size, mtimeMs: Math.floor(st.mtimeMs) });
        } catch (err) {
          // Removed between the listing and the stat: not there.
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
    }
  }

  return {
    async list() {
      const out: SourceEntry[] = [];
      try {
        await walk(root, '', out);
      } catch (err) {
        throw new SourceUnreachable('folder-unreadable', `the source folder cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      return out;
    },

    async read(rel) {
      const full = inside(rel);
      // Opened first, so a missing file is an error here rather than in the middle of the stream.
      try {
        const handle = await open(full, 'r');
        return handle.createReadStream() as Readable;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new SourceItemGone('the file is gone');
        throw new SourceUnreachable('folder-unreadable', `a file cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    },

    async readSmall(rel, maxBytes) {
      const full = inside(rel);
      let handle;
      try {
        handle = await open(full, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new SourceItemGone('the file is gone');
        throw new SourceUnreachable('folder-unreadable', `a file cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      try {
        const buf = Buffer.alloc(maxBytes + 1);
        const { bytesRead } = await handle.read(buf, 0, maxBytes + 1, 0);
        return buf.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    },

    async remove(rel) {
      try {
        await rm(inside(rel), { force: true });
      } catch (err) {
        throw new SourceUnreachable('folder-unwritable', `a file cannot be removed (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    },

    async close() {},
  };
}
