/**
 * No cycles between the folders under src/ (`npm run lint:deps` runs it after .dependency-cruiser.cjs).
 * A separate run because the files at the root of src/ are left out: the composition roots (main.ts,
 * services.ts, app.ts, openapi.ts) import every folder and config.ts is read by several, so counting
 * the root as a folder would make every folder part of one cycle and the rule would say nothing.
 * jobs/, scripts/ and db/ are not cruised here for the same reason (they are composition roots).
 */
const { options } = require('./.dependency-cruiser.cjs');

module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycles',
      severity: 'error',
      scope: 'folder',
      comment: 'The folders under src/ form no import cycle, type-only imports included (a route file in a capability folder counts for its folder).',
      from: {},
      to: { circular: true },
    },
  ],
  options: { ...options, exclude: { path: '^src/[^/]+\\.ts$' } },
};
