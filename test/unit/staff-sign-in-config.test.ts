import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config.js';
import { rolesFromClaims } from '../../src/staff-sign-in/index.js';

describe('staff sign-in configuration and role mapping', () => {
  const oidcEnv = {
    OIDC_ISSUER: 'https://login.microsoftonline.com/tenant/v2.0',
    OIDC_CLIENT_ID: 'client',
    OIDC_CLIENT_SECRET: 'shh-very-secret',
    OIDC_REDIRECT_URL: 'https://gallra.kommun.example/auth/callback',
    OIDC_ROLES: 'trainer:g-1, auditor:g-2,admin:urn:kommun:admins,admin:g-4',
  };

  it('leaves OIDC off by default, with token sign-in', () => {
    const c = loadConfig({});
    expect(c.oidc).to.equal(undefined);
    expect(c.allowTokenSignIn).to.equal(false);
    expect(c.sessionIdleMs).to.equal(30 * 60_000);
  });

  it('parses the OIDC settings and the role map (a value may contain colons; a role may repeat)', () => {
    const c = loadConfig(oidcEnv);
    expect(c.oidc).to.deep.include({ issuer: oidcEnv.OIDC_ISSUER, clientId: 'client', roleClaim: 'groups', scopes: 'openid profile email', postLogoutRedirectUrl: 'https://gallra.kommun.example/' });
    expect(c.oidc!.roles).to.deep.equal([
      { role: 'trainer', value: 'g-1' },
      { role: 'auditor', value: 'g-2' },
      { role: 'admin', value: 'urn:kommun:admins' },
      { role: 'admin', value: 'g-4' },
    ]);
  });

  it('names each missing OIDC variable, and never echoes the client secret', () => {
    const { OIDC_CLIENT_ID: _c, OIDC_ROLES: _r, ...partial } = oidcEnv;
    expect(() => loadConfig(partial)).to.throw(ConfigError, /OIDC_CLIENT_ID: required when OIDC_ISSUER is set[\s\S]*OIDC_ROLES: required/);
    expect(() => loadConfig({ ...oidcEnv, OIDC_ROLES: 'phone-system:g-9' })).to.throw(ConfigError, /OIDC_ROLES/);
    let message = '';
    expect(() => {
      try {
        loadConfig({ ...oidcEnv, OIDC_CLIENT_SECRET: 'x', OIDC_REDIRECT_URL: 'not a url' });
      } catch (err) {
        message = (err as Error).message;
        throw err;
      }
    }).to.throw(ConfigError);
    expect(message).to.contain('OIDC_REDIRECT_URL').and.not.contain('shh-very-secret');
    expect(() => loadConfig({ ...oidcEnv, OIDC_CLIENT_SECRET: '' })).not.to.throw();
  });

  it('maps claim values to the union of roles, widest first, from a list, a string or a nested claim', () => {
    const map = loadConfig(oidcEnv).oidc!.roles;
    expect(rolesFromClaims({ groups: ['g-1', 'g-2', 'other'] }, 'groups', map)).to.deep.equal(['auditor', 'trainer']);
    expect(rolesFromClaims({ groups: 'g-4' }, 'groups', map)).to.deep.equal(['admin']);
    expect(rolesFromClaims({ realm_access: { roles: ['urn:kommun:admins'] } }, 'realm_access.roles', map)).to.deep.equal(['admin']);
    expect(rolesFromClaims({ groups: ['canteen'] }, 'groups', map)).to.deep.equal([]);
    expect(rolesFromClaims({}, 'groups', map)).to.deep.equal([]);
  });
});
