/**
 * The architecture rules of docs/STYLE (dependencies point inward), checked by `npm run lint:deps`,
 * which `npm test` runs. Type-only imports count: a type cycle is still a cycle.
 *
 * File classes, decided by name and location:
 * - HTTP: src/http/, `*.routes.ts`, app.ts, openapi.ts and main.ts.
 * - Adapters: `*-repository.ts`, `*-metrics.ts` (prom-client), the object-store adapters
 *   and the bucket lifecycle (`s3-object-store.ts`, `s3-versions.ts`, `s3-source-bucket.ts`, `fs-object-store.ts`, `create-store.ts`,
 *   `lifecycle.ts`), `openid-client-provider.ts` and src/shared/database.ts.
 * - Composition roots: src/main.ts, src/services.ts, src/app.ts, src/openapi.ts, jobs/, scripts/.
 * - Domain and use cases: every other file in a folder under src/, src/shared/ included. A capability's
 *   index.ts counts as domain for the infrastructure rule; as a barrel it may re-export adapters for the
 *   composition roots. src/config.ts is the one place that reads the environment.
 * - A capability is a folder under src/ other than shared/ and http/; it is entered through its index.ts.
 * dependency-cruiser cannot see `process.env`: test/unit/dependency-rules.test.ts scans the domain and
 * use-case files (the `from` of `no-infrastructure-in-domain`) for it. Nor can it see SQL: the same test
 * checks that no table is queried from two capabilities (one owner per table).
 */
// Files that may speak HTTP: the http folder, route files, the app, the OpenAPI document and the composition root.
const HTTP = '^src/(http/|app\\.ts$|openapi\\.ts$|main\\.ts$)|\\.routes\\.ts$';
const ADAPTERS = [
  '-repository\\.ts$',
  '-metrics\\.ts$',
  '^src/storage/(s3-object-store|s3-versions|s3-source-bucket|fs-object-store|create-store|lifecycle)\\.ts$',
  '^src/staff-sign-in/openid-client-provider\\.ts$',
  '^src/encryption/pg-key-store\\.ts$',
  '^src/shared/database\\.ts$',
];
const DOMAIN = { path: '^src/[^/]+/', pathNot: [HTTP, ...ADAPTERS] };
const USE_CASES = { path: DOMAIN.path, pathNot: [...DOMAIN.pathNot, '/index\\.ts$'] };
// Folders under src/ that are not capabilities: imported file by file.
const NOT_CAPABILITIES = '^src/(shared|http)/';

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
      name: 'capabilities-through-index',
      severity: 'error',
      comment:
        "Another folder enters a capability only through its index.ts. app.ts and openapi.ts also load route files, which the index never exports (loading a use case must not load express).",
      from: { path: '^(src/[^/]+/|src/[^/]+\\.ts$|jobs/|scripts/|db/)', pathNot: '^src/(app|openapi|config)\\.ts$' },
      to: { path: '^src/[^/]+/', pathNot: ['^$1', NOT_CAPABILITIES, '/index\\.ts$'] },
    },
    {
      name: 'config-reads-schemas-only',
      severity: 'error',
      comment:
        "config.ts reads every setting. A capability with a settings file of its own (SOURCES_FILE) keeps that file's schema in a leaf module, *-config.ts, which config.ts loads directly (the capability's index loads use cases that need the config: a cycle); otherwise config.ts enters a capability through its index like everyone else.",
      from: { path: '^src/config\\.ts$' },
      to: { path: '^src/[^/]+/', pathNot: [NOT_CAPABILITIES, '/index\\.ts$', '/[^/]+-config\\.ts$'] },
    },
    {
      name: 'routes-only-from-app',
      severity: 'error',
      comment: 'Only app.ts and openapi.ts reach past a capability index, and only to its route files.',
      from: { path: '^src/(app|openapi)\\.ts$' },
      to: { path: '^src/[^/]+/', pathNot: [NOT_CAPABILITIES, '/index\\.ts$', '\\.routes\\.ts$'] },
    },
    {
      name: 'migrations-import-nothing-from-src',
      severity: 'error',
      comment: 'A migration is a frozen copy of the schema at its date: it imports nothing from src/ (or scripts/, jobs/).',
      from: { path: '^db/migrations/' },
      to: { path: '^(src|jobs|scripts)/' },
    },
    {
      name: 'no-adapters-in-use-cases',
      severity: 'error',
      comment:
        "Use cases depend on ports, not on adapters (not even their types): a capability declares its ports in its own files (ports.ts) and its adapters implement them. .dependency-cruiser-known-violations.json is empty; keep it so.",
      from: USE_CASES,
      to: { path: ADAPTERS },
    },
    {
      name: 'no-infrastructure-in-domain',
      severity: 'error',
      comment: 'Domain and use-case files never import the web framework, the scheduler, the database drivers, knex or the metrics library (types included).',
      from: DOMAIN,
      to: {
        path: '(^|/)node_modules/(express|@types/express[^/]*|express-serve-static-core|node-cron|pg|pg-[^/]+|@types/pg|sqlite3|knex|prom-client)/',
      },
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
      comment: 'Only src/http, *.routes.ts, app.ts, openapi.ts and main.ts import express, busboy or express-rate-limit.',
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
