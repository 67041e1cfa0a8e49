import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OidcConfig, ResolvedConfig } from '../../src/config.js';
import type { Database } from '../../src/shared/database.js';
import { startOidcProvider, type TestOidcProvider, type TestPerson } from './oidc-provider.js';
import { startTestApp, type TestApp } from './test-app.js';

/** Group ids at the test provider, as Entra ID would send them (object ids). */
export const GROUPS = {
  trainers: '6f1c2d3e-0000-4000-8000-000000000001',
  auditors: '6f1c2d3e-0000-4000-8000-000000000002',
  admins: '6f1c2d3e-0000-4000-8000-000000000003',
  canteen: '6f1c2d3e-0000-4000-8000-0000000000ff',
};

export const PEOPLE: Record<string, TestPerson> = {
  'tove.trainer': { name: 'Tove Utbildare', email: 'tove@kommun.test', groups: [GROUPS.trainers] },
  'agnes.auditor': { name: 'Agnes Granskare', groups: [GROUPS.auditors, GROUPS.canteen] },
  'adam.admin': { name: 'Adam Administratör', groups: [GROUPS.admins] },
  'tilda.two-roles': { name: 'Tilda Tvåroll', groups: [GROUPS.trainers, GROUPS.auditors] },
  'kalle.canteen': { name: 'Kalle Kök', groups: [GROUPS.canteen] },
};

export interface OidcTestApp {
  t: TestApp;
  provider: TestOidcProvider;
  base: string;
  server: http.Server;
  close(): Promise<void>;
}

/** gallra on a loopback port, signing staff in with a real OpenID Connect provider on another. */
export async function startOidcTestApp(config: Partial<ResolvedConfig> = {}, opts: { db?: Database } = {}): Promise<OidcTestApp> {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = await startOidcProvider({ redirectUri: `${base}/auth/callback`, postLogoutRedirectUri: `${base}/`, people: PEOPLE });
  const oidc: OidcConfig = {
    issuer: provider.issuer,
    clientId: provider.clientId,
    clientSecret: provider.clientSecret,
    redirectUrl: `${base}/auth/callback`,
    postLogoutRedirectUrl: `${base}/`,
    scopes: 'openid profile email',
    roleClaim: 'groups',
    roles: [
      { role: 'trainer', value: GROUPS.trainers },
      { role: 'auditor', value: GROUPS.auditors },
      { role: 'admin', value: GROUPS.admins },
    ],
  };
  const t = await startTestApp({ config: { oidc, ...config }, db: opts.db });
  server.on('request', t.app);
  return {
    t,
    provider,
    base,
    server,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await provider.close();
      await t.close();
    },
  };
}
