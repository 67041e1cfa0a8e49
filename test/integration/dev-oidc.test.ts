import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('npm run dev:oidc: a local identity provider to try single sign-on', function () {
  this.timeout(60_000);
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child?.pid && child.exitCode === null) child.kill('SIGTERM');
  });

  it('prints every person with their role and the command that starts gallra against it, and serves its discovery document', async () => {
    child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/dev-oidc.ts'], { cwd: ROOT, env: { ...process.env, DEV_OIDC_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child!.stdout!.on('data', (c: Buffer) => {
        out += c.toString('utf8');
        if (out.includes('Ctrl-C stops the provider')) resolve();
      });
      child!.once('exit', (code) => reject(new Error(`dev:oidc exited ${code}: ${out}`)));
    });
    for (const line of ['tove.trainer', 'agnes.auditor', 'adam.admin', 'tilda.two-roles', 'kalle.canteen', 'no gallra role (refused)', 'OIDC_ROLES=trainer:', 'OIDC_REDIRECT_URL=http://127.0.0.1:8080/auth/callback']) {
      expect(out).to.include(line);
    }
    const issuer = /Test identity provider at (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
    const discovery = await fetch(`${issuer}/.well-known/openid-configuration`);
    expect(discovery.status).to.equal(200);
    expect((await discovery.json()).issuer).to.equal(issuer);
  });
});
