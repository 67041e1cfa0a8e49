import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Starts the test S3-compatible server (s3rver) in a process of its own, as a real store would be:
 * sharing the benchmark's process would put the store's work and the client's on one event loop, and
 * measure their sum rather than the client.
 */
export async function startS3rverProcess(): Promise<{ endpoint: string; bucket: string; dir: string; pid: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/s3rver-process.ts'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const s3 = await new Promise<{ endpoint: string; bucket: string; dir: string }>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c) => {
      out += c;
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!));
    });
    child.on('exit', (code) => reject(new Error(`s3rver exited ${code}`)));
  });
  return {
    ...s3,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
