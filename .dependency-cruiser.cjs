/**
 * The architecture rules of docs/STYLE (dependencies point inward), checked by `npm run lint:deps`,
 * which `npm test` runs. Type-only imports count: a type cycle is still a cycle.
 */
// Files that may speak HTTP: the http folder, route files, the app and the composition root.
const HTTP = '^src/(http/|app\\.ts$|main\\.ts$)|\\.routes\\.ts$';

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Modules form no import cycle, type-only imports included.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'knex-only-in-repositories',
      severity: 'error',
      comment: 'SQL lives in *-repository.ts; knex (even its types) is imported only there, by migrations and by the database helper.',
      from: { path: '^(src|jobs|scripts|db)/', pathNot: ['-repository\\.ts$', '^db/migrations/', '^src/shared/database\\.ts$'] },
      to: { path: '(^|/)node_modules/knex/' },
    },
    {
      name: 'no-database-handle-in-use-cases',
      severity: 'error',
      comment: 'Use cases take repositories and the transaction(fn) port; only repositories and the composition roots (services.ts, main.ts, scripts) open the database helper.',
      from: { path: '^(src|jobs)/', pathNot: ['-repository\\.ts$', '^src/(services|main)\\.ts$', '^src/shared/database\\.ts$'] },
      to: { path: '^src/shared/database\\.ts$' },
    },
    {
      name: 'no-http-in-domain',
      severity: 'error',
      comment: 'Only src/http, *.routes.ts, app.ts and main.ts import express, busboy or express-rate-limit.',
      from: { path: '^(src|jobs|scripts)/', pathNot: HTTP },
      to: { path: '(^|/)node_modules/(express|busboy|express-rate-limit|helmet)/' },
    },
    {
      name: 'no-routes-from-domain',
      severity: 'error',
      comment: 'A domain module never loads a route file or the http layer (loading a use case must not load express).',
      from: { path: '^(src|jobs|scripts)/', pathNot: [HTTP, '^src/services\\.ts$'] },
      to: { path: HTTP },
    },
    {
      name: 'aws-sdk-only-in-storage',
      severity: 'error',
      comment: 'The S3 SDK stays behind the ObjectStore port.',
      from: { path: '^(src|jobs|scripts)/', pathNot: '^src/storage/' },
      to: { path: '(^|/)node_modules/@aws-sdk/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
