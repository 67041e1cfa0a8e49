// Tests run TypeScript through tsx; no retries: a flaky test must be fixed, not hidden.
// With test files named on the command line, run only those (mocha would otherwise add them to the default spec).
const named = process.argv.slice(2).some((a) => /\.test\.ts$|^test\//.test(a));
module.exports = {
  'node-option': ['import=tsx'],
  ...(named ? {} : { spec: ['test/**/*.test.ts'] }),
  recursive: true,
  timeout: 30000,
  exit: true,
};
