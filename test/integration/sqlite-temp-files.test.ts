import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { itOn } from '../helpers/test-app.js';

describe('SQLite keeps its temporary storage in memory', () => {
  // SQLite creates a sorter's or a statement journal's file in TMPDIR and unlinks it at once: a process
  // killed between the two (kill -9 during a retention run) left one behind, with rows of the database in it.
  itOn('sqlite')('creates no file in TMPDIR while sorting and updating many rows in a transaction', async function () {
    this.timeout(60_000);
    const dir = mkdtempSync(path.join(tmpdir(), 'gallra-sqlite-tmp-'));
    const tmp = path.join(dir, 'tmp');
    mkdirSync(tmp);
    const created: string[] = [];
    const watcher = watch(tmp, (_event, name) => created.push(String(name)));
    try {
      await promisify(execFile)(process.execPath, ['--import', 'tsx', path.resolve('test/helpers/sqlite-sort-workload.ts'), path.join(dir, 'work.sqlite')], {
        env: { ...process.env, TMPDIR: tmp, SQLITE_TMPDIR: tmp },
      });
      await new Promise((r) => setImmediate(r));
      // tsx keeps its compile cache in TMPDIR: that is not SQLite's.
      expect(created.filter((n) => !n.startsWith('tsx-')), 'files SQLite created in TMPDIR').to.deep.equal([]);
      expect(readdirSync(tmp).filter((n) => !n.startsWith('tsx-'))).to.deep.equal([]);
    } finally {
      watcher.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
