import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';

/**
 * Debian's OpenSSH sshd, started by a test on a loopback port with throwaway host and user keys, on a
 * temporary directory, without chroot. sshd refuses to run as root without its privilege-separation
 * directory (/run/sshd), so under root it is started as `nobody` instead (unprivileged, as it should
 * be); `UsePAM yes` because sshd without PAM treats Debian's locked system accounts (password `*`)
 * as refused, whereas PAM only checks the account for the public-key login.
 */
export interface TestSshd {
  port: number;
  /** The user the SFTP session logs in as (the user sshd runs as). */
  username: string;
  /** The user's private key (OpenSSH format). */
  userKey: Buffer;
  /** The host key's fingerprint as `ssh-keygen -l -E sha256` prints it. */
  hostKeySha256: string;
  /** A directory the SFTP user can read and write: the source's directory. */
  dir: string;
  /** Everything sshd wrote to stderr (for a failing test's message). */
  log(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function startSshd(): Promise<TestSshd> {
  const base = mkdtempSync(path.join(tmpdir(), 'gallra-sshd-'));
  const asRoot = process.getuid?.() === 0;
  const uid = asRoot ? 65534 : process.getuid!();
  const gid = asRoot ? 65534 : process.getgid!();
  const username = asRoot ? 'nobody' : userInfo().username;
  const keygen = (file: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'gallra-test', '-f', file]);
  keygen(path.join(base, 'host_key'));
  keygen(path.join(base, 'user_key'));
  copyFileSync(path.join(base, 'user_key.pub'), path.join(base, 'authorized_keys'));
  const dir = path.join(base, 'outgoing');
  mkdirSync(dir);
  const hostKeySha256 = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', path.join(base, 'host_key.pub')], { encoding: 'utf8' }).split(' ')[1]!;
  const userKey = readFileSync(path.join(base, 'user_key'));

  let started: { child: ChildProcess; port: number } | null = null;
  let stderr = '';
  // A port found free may be taken before sshd binds it (other workers share the machine): try again.
  for (let attempt = 0; attempt < 5 && !started; attempt++) {
    const port = await freePort();
    writeFileSync(
      path.join(base, 'sshd_config'),
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${path.join(base, 'host_key')}`,
        `PidFile ${path.join(base, 'sshd.pid')}`,
        `AuthorizedKeysFile ${path.join(base, 'authorized_keys')}`,
        'StrictModes no',
        'UsePAM yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PubkeyAuthentication yes',
        'PrintMotd no',
        `AllowUsers ${username}`,
        'Subsystem sftp internal-sftp',
        '',
      ].join('\n'),
    );
    if (asRoot) for (const f of ['', ...readdirSync(base)]) chownSync(path.join(base, f), uid, gid);
    chmodSync(path.join(base, 'host_key'), 0o600);
    const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', path.join(base, 'sshd_config')], { uid, gid, stdio: ['ignore', 'ignore', 'pipe'] });
    const ok = await new Promise<boolean>((resolve) => {
      child.stderr!.on('data', (c: Buffer) => {
        stderr += c.toString();
        if (stderr.includes(`Server listening on 127.0.0.1 port ${port}`)) resolve(true);
      });
      child.once('exit', () => resolve(false));
    });
    if (ok) started = { child, port };
    else if (!/Address already in use/.test(stderr)) break;
  }
  if (!started) {
    rmSync(base, { recursive: true, force: true });
    throw new Error(`sshd did not start:\n${stderr}`);
  }
  const { child, port } = started;
  return {
    port,
    username,
    userKey,
    hostKeySha256,
    dir,
    log: () => stderr,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(base, { recursive: true, force: true });
    },
  };
}
