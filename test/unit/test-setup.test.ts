import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';

const SCRIPT = path.resolve(import.meta.dirname, '../../scripts/test-setup.sh');

/**
 * scripts/test-setup.sh, `npm test`'s pretest step, with its checks pointed at what the test chooses:
 * by default everything present (this Node.js stands in for every program, `true` for pg_isready) and the
 * user not root, so that nothing is ever installed or started from here.
 */
function setUp(overrides: Record<string, string>) {
  const env = {
    ...process.env,
    GALLRA_SETUP_NODE: process.execPath,
    GALLRA_SETUP_NPM: 'false',
    GALLRA_SETUP_CHROMIUM: process.execPath,
    GALLRA_SETUP_SSHD: process.execPath,
    GALLRA_SETUP_PG_ISREADY: 'true',
    GALLRA_SETUP_PG_CONF: '/nonexistent/postgresql',
    GALLRA_SETUP_ROOT: '0',
    ...overrides,
  };
  const r = spawnSync('bash', [SCRIPT], { env, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the test set-up (scripts/test-setup.sh)', () => {
  let pgConf: string;
  before(() => {
    pgConf = mkdtempSync(path.join(tmpdir(), 'gallra-pg-conf-'));
    mkdirSync(path.join(pgConf, '15', 'main'), { recursive: true });
  });
  after(() => rmSync(pgConf, { recursive: true, force: true }));

  it('only checks, silently, when everything is there', () => {
    expect(setUp({})).to.deep.equal({ status: 0, stdout: '', stderr: '' });
  });

  it("stops at once, in one line, when Debian's Chromium is missing and it may not install it", () => {
    expect(setUp({ GALLRA_SETUP_CHROMIUM: '/nonexistent/chromium' })).to.deep.equal({
      status: 1,
      stdout: '',
      stderr: 'test set-up: /nonexistent/chromium is missing: as root, apt-get update && apt-get install -y chromium\n',
    });
  });

  it("names OpenSSH's server, and both packages in one command when both are missing", () => {
    expect(setUp({ GALLRA_SETUP_SSHD: '/nonexistent/sshd' }).stderr).to.equal(
      'test set-up: /nonexistent/sshd is missing: as root, apt-get update && apt-get install -y openssh-server\n',
    );
    expect(setUp({ GALLRA_SETUP_CHROMIUM: '/nonexistent/chromium', GALLRA_SETUP_SSHD: '/nonexistent/sshd' })).to.deep.equal({
      status: 1,
      stdout: '',
      stderr:
        'test set-up: /nonexistent/chromium and /nonexistent/sshd are missing: as root, apt-get update && apt-get install -y chromium openssh-server\n',
    });
  });

  it('names a stopped PostgreSQL cluster and the command that starts it', () => {
    expect(setUp({ GALLRA_SETUP_PG_ISREADY: '/nonexistent/pg_isready', GALLRA_SETUP_PG_CONF: pgConf })).to.deep.equal({
      status: 1,
      stdout: '',
      stderr: 'test set-up: PostgreSQL 15 is installed but stopped: as root, pg_ctlcluster 15 main start\n',
    });
  });

  it('says what to do when PostgreSQL is not installed at all', () => {
    expect(setUp({ GALLRA_SETUP_PG_ISREADY: '/nonexistent/pg_isready' })).to.deep.equal({
      status: 1,
      stdout: '',
      stderr:
        'test set-up: PostgreSQL is not installed (nothing answers on 127.0.0.1:5432, no cluster in /nonexistent/postgresql): ' +
        'as root, apt-get install -y postgresql, then trust user postgres on 127.0.0.1 (README, Tests)\n',
    });
  });

  it('tries npm install when Node.js 24 is missing, and says so in one line when that does not bring it', () => {
    expect(setUp({ GALLRA_SETUP_NODE: '/nonexistent/node' })).to.deep.equal({
      status: 1,
      stdout: 'test set-up: Node.js 24 is missing from /nonexistent/node; bringing it: npm install\n',
      stderr: 'test set-up: Node.js 24 is missing (/nonexistent/node) and npm install did not bring it: npm install\n',
    });
  });

  it('stops at the first thing it cannot set up', () => {
    const r = setUp({ GALLRA_SETUP_CHROMIUM: '/nonexistent/chromium', GALLRA_SETUP_PG_ISREADY: '/nonexistent/pg_isready' });
    expect(r.stderr).to.equal('test set-up: /nonexistent/chromium is missing: as root, apt-get update && apt-get install -y chromium\n');
    expect(r.status).to.equal(1);
  });
});
