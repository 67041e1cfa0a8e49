// Tests run TypeScript through tsx; no retries: a flaky test must be fixed, not hidden.
// GALLRA_TEST_DB picks the database kind of the run (test/helpers/test-database.ts): the SQLite run takes
// every spec; the PostgreSQL run takes those that touch the database (component/, integration/, chaos/) except
// the few that use none or only the embedded default. `npm test` runs both.
// With test files or folders named on the command line (`npm run test:only -- test/unit`), run only those
// (mocha would otherwise add them to the default spec); `extension` makes a folder yield its .test.ts files only.
const named = process.argv.slice(2).some((a) => /\.test\.ts$|^test\//.test(a));
const postgres = process.env.GALLRA_TEST_DB === 'postgres';
const specs = postgres
  ? {
      spec: ['test/component/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/chaos/**/*.test.ts'],
      ignore: [
        'test/integration/quick-start.test.ts', // the README's quick start: SQLite by definition
        'test/integration/s3-checksum-trap.test.ts', // S3 only
        // CLIs on the embedded default (DATA_DIR, SQLite), as a person runs them:
        'test/integration/retention-cli.test.ts',
        'test/integration/subject-request-cli.test.ts',
      ],
    }
  : {
      spec: ['test/**/*.test.ts'],
      // PostgreSQL by definition (two instances on one PostgreSQL database): counted in that run only.
      ignore: ['test/integration/sign-in-postgres.test.ts'],
    };
module.exports = {
  'node-option': ['import=tsx'],
  require: ['test/helpers/global-fixtures.ts'],
  ...(named ? {} : specs),
  extension: ['test.ts'],
  recursive: true,
  timeout: 30000,
  exit: true,
};
