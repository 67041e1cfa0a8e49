// Run as a child process by test/integration/sqlite-temp-files.test.ts, with TMPDIR set (SQLite reads it
// once, at start): sorts and a many-row update in a transaction, the work that makes SQLite use
// temporary storage (a sorter, a statement journal).
import { createDatabase } from '../../src/shared/database.js';

const db = createDatabase(`sqlite:${process.argv[2]}`);
try {
  await db.raw('create table rows_for_sorting (id text primary key, status text, pad text)');
  await db.transaction(async (trx) => {
    for (let i = 0; i < 3000; i += 100) {
      await trx('rows_for_sorting').insert(Array.from({ length: 100 }, (_, j) => ({ id: `id${String(i + j).padStart(6, '0')}`, status: 'stored', pad: 'x'.repeat(500) })));
    }
  });
  await db.transaction(async (trx) => {
    const ids = (await trx('rows_for_sorting').select('id').orderBy('pad').orderBy('id', 'desc').limit(500)).map((r: { id: string }) => r.id);
    await trx('rows_for_sorting').whereIn('id', ids).where('status', 'stored').update({ status: 'deleted' });
  });
} finally {
  await db.destroy();
}
