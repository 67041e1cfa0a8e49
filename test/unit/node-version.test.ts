import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { MINIMUM_NODE_MAJOR, unsupportedNode } from '../../src/shared/node-version.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
};
const REFUSAL_ON_20 =
  'gallra needs Node.js 24 or later, not v20.20.2: run it through npm (npm start, npm run <script>), which uses ' +
  'the Node.js 24 that npm install puts in node_modules/.bin, or install Node.js 24 (README, "Node.js")';
const GUARD = /^import '(\.\.\/src|\.)\/shared\/require-supported-node\.js';/;

/** Runs a TypeScript entry point on this Node.js, made to report `version` as its process.version. */
function runAs(version: string, entry: string, args: string[] = []) {
  const fake = `data:text/javascript,Object.defineProperty(process,"version",{value:${JSON.stringify(version)}})`;
  return spawnSync(process.execPath, ['--import', fake, '--import', 'tsx', entry, ...args], {
    cwd: ROOT,
    // A DATA_DIR that cannot be created: a start that got past the check would fail at once.
    env: { ...process.env, DATA_DIR: '/dev/null/gallra-data' },
    encoding: 'utf8',
    timeout: 20_000,
  });
}

describe('supported Node.js', () => {
  it('refuses an older Node.js in one line saying what to run instead', () => {
    expect(unsupportedNode('v20.20.2')).to.equal(REFUSAL_ON_20);
    expect(unsupportedNode('v23.11.1')).to.match(/^gallra needs Node\.js 24 or later, not v23\.11\.1: /);
    expect(unsupportedNode('nonsense')).to.match(/^gallra needs Node\.js 24 or later, not nonsense: /);
  });

  it('accepts Node.js 24 and later', () => {
    for (const v of ['v24.0.0', 'v24.21.0', 'v26.1.0', 'v100.0.0']) expect(unsupportedNode(v), v).to.equal(undefined);
  });

  it('is the version package.json declares and brings: engines >=24, the node devDependency 24.x', () => {
    expect(pkg.engines.node).to.equal(`>=${MINIMUM_NODE_MAJOR}`);
    expect(pkg.devDependencies.node).to.match(new RegExp(`^${MINIMUM_NODE_MAJOR}\\.\\d+\\.\\d+$`));
    expect(pkg.devDependencies['@types/node']).to.match(new RegExp(`^\\^${MINIMUM_NODE_MAJOR}\\.`));
  });

  it('runs these tests on the Node.js that npm install brought (node_modules/.bin/node)', () => {
    expect(process.version).to.equal(`v${pkg.devDependencies.node}`);
  });

  it('is checked first by the service and by every CLI that an npm script runs', () => {
    const entries = Object.values(pkg.scripts)
      .map((s) => /^node dist\/((?:src|scripts)\/[\w-]+)\.js/.exec(s)?.[1])
      .filter((e): e is string => e !== undefined);
    expect(entries).to.include.members(['src/main', 'scripts/token', 'scripts/subject-request']);
    for (const entry of entries) {
      const firstImport = readFileSync(path.join(ROOT, `${entry}.ts`), 'utf8')
        .split('\n')
        .find((l) => l.startsWith('import '));
      expect(firstImport, entry).to.match(GUARD);
    }
  });

  it('the service and a CLI started on Node.js 20 refuse with that line and exit 1, before reading any configuration', () => {
    for (const [entry, args] of [['src/main.ts', []], ['scripts/token.ts', ['list']]] as const) {
      const r = runAs('v20.20.2', entry, [...args]);
      expect(r.stderr, entry).to.equal(`${REFUSAL_ON_20}\n`);
      expect(r.stdout, entry).to.equal('');
      expect(r.status, entry).to.equal(1);
    }
  });
});
