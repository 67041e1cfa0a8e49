import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Readable } from 'node:stream';
import SftpClient from 'ssh2-sftp-client';
import { SourceItemGone, SourceUnreachable, type SourceAdapter, type SourceEntry } from './ports.js';
import type { SftpSourceConfig } from './source-config.js';

/** OpenSSH's fingerprint of a host key: SHA256:<base64 of the key blob's SHA-256, unpadded>. */
export function fingerprintOf(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '');
}

/** SFTP's "no such file" status, as ssh2 and ssh2-sftp-client report it. */
function isMissing(err: unknown): boolean {
  const e = err as { code?: unknown; message?: string };
  return e?.code === 2 || e?.code === 'ENOENT' || /No such file/i.test(e?.message ?? '');
}

/**
 * A directory on an SFTP server, through ssh2-sftp-client: key authentication (password only when the
 * config asks for it) and the server's host key pinned by fingerprint. One connection is kept and
 * opened again after a failure. The client's messages name remote paths, so none is passed on: errors
 * become SourceUnreachable/SourceItemGone with the operation and the client's error code only.
 */
export function createSftpSource(cfg: SftpSourceConfig): SourceAdapter {
  let client: SftpClient | null = null;
  let connecting: Promise<SftpClient> | null = null;
  const base = cfg.directory.replace(/\/+$/, '') || '/';
  const remote = (rel: string): string => {
    const normal = path.posix.normalize(rel);
    if (normal.startsWith('..') || path.posix.isAbsolute(normal)) throw new SourceItemGone('a path outside the source directory');
    return path.posix.join(base, normal);
  };

  async function connection(): Promise<SftpClient> {
    if (client) return client;
    connecting ??= (async () => {
      const c = new SftpClient('gallra-source');
      let presented: string | null = null;
      try {
        await c.connect({
          host: cfg.host,
          port: cfg.port,
          username: cfg.username,
          readyTimeout: cfg.connectTimeoutMs,
          ...(cfg.privateKey ? { privateKey: cfg.privateKey } : {}),
          ...(cfg.passphrase ? { passphrase: cfg.passphrase } : {}),
          ...(cfg.password !== undefined ? { password: cfg.password } : {}),
          // Only the configured method: never fall back to a password or agent that was not asked for.
          authHandler: cfg.password !== undefined ? ['password'] : ['publickey'],
          hostVerifier: (key: Buffer) => {
            presented = fingerprintOf(key);
            return presented === cfg.hostKeySha256;
          },
          retries: 0,
        } as SftpClient.ConnectOptions);
      } catch (err) {
        await c.end().catch(() => undefined);
        if (presented && presented !== cfg.hostKeySha256) {
          throw new SourceUnreachable(
            'host-key-mismatch',
            `the server's host key (${presented}) is not the pinned one (${cfg.hostKeySha256}); refusing to connect`,
          );
        }
        const e = err as { code?: unknown; message?: string };
        if (/authentication/i.test(e.message ?? '')) throw new SourceUnreachable('login-refused', 'the server refused the login');
        throw new SourceUnreachable('unreachable', `the server could not be reached (${String(e.code ?? 'error')})`);
      }
      // A connection the server closes is opened again at the next operation.
      c.on('close', () => {
        if (client === c) client = null;
      });
      c.on('error', () => {
        if (client === c) client = null;
      });
      client = c;
      return c;
    })().finally(() => (connecting = null));
    return connecting;
  }

  async function run<T>(op: string, fn: (c: SftpClient) => Promise<T>): Promise<T> {
    const c = await connection();
    try {
      return await fn(c);
    } catch (err) {
      if (err instanceof SourceItemGone || err instanceof SourceUnreachable) throw err;
      if (isMissing(err)) throw new SourceItemGone(`${op}: the file is gone`);
      // The connection may be broken: the next operation opens a new one.
      if (client === c) client = null;
      await c.end().catch(() => undefined);
      throw new SourceUnreachable('sftp-error', `sftp ${op} failed (${String((err as { code?: unknown }).code ?? 'error')})`);
    }
  }

  return {
    async list() {
      return run('list', async (c) => {
        const out: SourceEntry[] = [];
        const walk = async (dir: string, rel: string): Promise<void> => {
          for (const f of await c.list(dir)) {
            const r = rel ? `${rel}/${f.name}` : f.name;
            if (f.type === 'd') await walk(path.posix.join(dir, f.name), r);
            else if (f.type === '-') out.push({ path: r, size: f.size, mtimeMs: f.modifyTime });
          }
        };
        await walk(base, '');
        return out;
      });
    },

    async read(rel) {
      return run('read', async (c) => {
        // Opened first, so a missing file is an error here rather than in the middle of the stream.
        await c.stat(remote(rel));
        return c.createReadStream(remote(rel)) as unknown as Readable;
      });
    },

    async readSmall(rel, maxBytes) {
      return run('read', async (c) => {
        const st = await c.stat(remote(rel));
        if (st.size > maxBytes) return Buffer.alloc(maxBytes + 1);
        return (await c.get(remote(rel))) as Buffer;
      });
    },

    async remove(rel) {
      await run('delete', async (c) => {
        await c.delete(remote(rel), true);
      });
    },

    async close() {
      const c = client;
      client = null;
      await c?.end().catch(() => undefined);
    },
  };
}
