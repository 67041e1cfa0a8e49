/**
 * `npm run dev:oidc`: the test identity provider (test/helpers/oidc-provider.ts) on a fixed loopback
 * port, with one person per role, one in two roles and one with no gallra role, so that anyone can try
 * single sign-on locally. It prints who can sign in and how to start gallra against it. Development
 * only: any password is accepted, keys and sessions live in memory.
 */
import { GROUPS, PEOPLE } from './oidc-app.js';
import { startOidcProvider } from './oidc-provider.js';

const port = Number(process.env.DEV_OIDC_PORT ?? 4011);
const gallra = (process.env.GALLRA_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
const roleOf: Record<string, string> = { [GROUPS.trainers]: 'trainer', [GROUPS.auditors]: 'auditor', [GROUPS.admins]: 'admin' };

const provider = await startOidcProvider({ redirectUri: `${gallra}/auth/callback`, postLogoutRedirectUri: `${gallra}/`, people: PEOPLE, port });
const roles = `trainer:${GROUPS.trainers},auditor:${GROUPS.auditors},admin:${GROUPS.admins}`;
const lines = [
  `Test identity provider at ${provider.issuer} (development only).`,
  '',
  'Sign in as (user name, any password, e.g. "valfritt"):',
  ...Object.entries(PEOPLE).map(([login, p]) => {
    const r = p.groups.map((g) => roleOf[g]).filter(Boolean);
    return `  ${login.padEnd(17)} ${p.name.padEnd(20)} ${r.length ? r.join(', ') : 'no gallra role (refused)'}`;
  }),
  '',
  'Start gallra against it in another terminal:',
  `  OIDC_ISSUER=${provider.issuer} OIDC_CLIENT_ID=${provider.clientId} OIDC_CLIENT_SECRET=${provider.clientSecret} \\`,
  `  OIDC_REDIRECT_URL=${gallra}/auth/callback OIDC_ROLES=${roles} \\`,
  '  npm start',
  `then open ${gallra}/ and choose "Logga in med kommunens konto". Ctrl-C stops the provider.`,
];
process.stdout.write(lines.join('\n') + '\n');
const stop = () => void provider.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
