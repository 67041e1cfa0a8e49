// Tests run TypeScript through tsx; no retries: a flaky test must be fixed, not hidden.
module.exports = {
  'node-option': ['import=tsx'],
  spec: ['test/**/*.test.ts'],
  timeout: 30000,
  exit: true,
};
