import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';

/** A member of staff at the test provider: the login typed on its sign-in page is the subject. */
export interface TestPerson {
  name: string;
  email?: string;
  groups: string[];
}

export interface TestOidcProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  close(): Promise<void>;
}

/**
 * A real OpenID Connect provider (oidc-provider) on a loopback port, configured like the
 * municipality's: one confidential client with PKCE required, `groups` in the ID token (as Entra ID
 * puts them), its development sign-in page (any password), consent taken as given for gallra, and
 * RP-initiated logout. Its pages fetch nothing from outside.
 */
export async function startOidcProvider(opts: { redirectUri: string; postLogoutRedirectUri: string; people: Record<string, TestPerson>; port?: number }): Promise<TestOidcProvider> {
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', resolve);
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'gallra';
  const clientSecret = 'test-client-secret-that-is-long-enough-for-hs256-0123456789';
  // It warns (on stderr) that its in-memory store, development keys and sign-in pages are for
  // development only, which is exactly what a test wants: keep the test output readable.
  const warn = console.warn;
  console.warn = () => undefined;
  let provider: Provider;
  try {
    provider = makeProvider();
  } finally {
    console.warn = warn;
  }
  server.on('request', provider.callback());
  return {
    issuer,
    clientId,
    clientSecret,
    close: () => new Promise((r) => server.close(() => r())),
  };

  function makeProvider(): Provider {
    return new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [opts.redirectUri],
        post_logout_redirect_uris: [opts.postLogoutRedirectUri],
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    pkce: { methods: ['S256'], required: () => true },
    ttl: { Interaction: 600, Grant: 3600, Session: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
    claims: { openid: ['sub', 'groups'], profile: ['name'], email: ['email'] },
    // Entra ID puts the profile and groups into the ID token; so does this provider.
    conformIdTokenClaims: false,
    cookies: { keys: ['gallra-test-provider-cookie-key'], long: { sameSite: 'lax' }, short: { sameSite: 'lax' } },
    async findAccount(_ctx, sub) {
      const person = opts.people[sub];
      if (!person) return undefined;
      return { accountId: sub, claims: async () => ({ sub, name: person.name, email: person.email, groups: person.groups }) };
    },
    // The municipality has consented for gallra once, for everyone.
    async loadExistingGrant(ctx: KoaContextWithOIDC) {
      const existing = ctx.oidc.result?.consent?.grantId || ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId);
      if (existing) return ctx.oidc.provider.Grant.find(existing);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId });
      grant.addOIDCScope(String(ctx.oidc.params!.scope ?? 'openid'));
      await grant.save();
      return grant;
    },
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.body = `<!doctype html><html><head><title>Sign out</title></head><body><h1>Sign out of the provider?</h1>${form}<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button></body></html>`;
        },
        async postLogoutSuccessSource(ctx) {
          ctx.body = '<!doctype html><html><head><title>Signed out</title></head><body><h1>Signed out</h1></body></html>';
        },
      },
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = `<!doctype html><html><head><title>Provider error</title></head><body><pre>${JSON.stringify(out).replace(/</g, '&lt;')}</pre></body></html>`;
    },
  });
  }
}

/** A tiny cookie jar per origin, for driving the flow over HTTP without a browser. */
export class CookieJar {
  private readonly jars = new Map<string, Map<string, string>>();

  header(url: string): string {
    return [...(this.jars.get(new URL(url).origin) ?? new Map()).entries()].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  take(url: string, res: Response): void {
    const jar = this.jars.get(new URL(url).origin) ?? new Map<string, string>();
    this.jars.set(new URL(url).origin, jar);
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      const gone = !value || attrs.some((a) => /^\s*expires=thu, 01 jan 1970/i.test(a) || /^\s*max-age=0\s*$/i.test(a));
      if (gone) jar.delete(name);
      else jar.set(name, value);
    }
  }

  get(url: string, name: string): string | undefined {
    return this.jars.get(new URL(url).origin)?.get(name);
  }

  set(url: string, name: string, value: string): void {
    const jar = this.jars.get(new URL(url).origin) ?? new Map<string, string>();
    this.jars.set(new URL(url).origin, jar);
    jar.set(name, value);
  }
}

/** One request without following redirects, cookies from and into the jar. */
export async function step(jar: CookieJar, url: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: jar.header(url) } });
  jar.take(url, res);
  return res;
}

/**
 * Signs in at the provider as `login` over plain HTTP, starting at gallra's /auth/sign-in, and stops
 * at the redirect back to gallra: returns that callback URL (not yet visited).
 */
export async function signInAtProvider(jar: CookieJar, appBase: string, login: string): Promise<string> {
  let res = await step(jar, `${appBase}/auth/sign-in`);
  let url = new URL(res.headers.get('location')!, appBase).href;
  for (let hops = 0; hops < 10; hops++) {
    if (url.startsWith(appBase)) return url;
    res = await step(jar, url);
    if (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get('location')!, url).href;
      continue;
    }
    const html = await res.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (!action || !html.includes('name="login"')) throw new Error(`unexpected provider page at ${url}: ${res.status} ${html.slice(0, 300)}`);
    res = await step(jar, new URL(action, url).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ prompt: 'login', login, password: 'any' }).toString(),
    });
    url = new URL(res.headers.get('location')!, url).href;
  }
  throw new Error('the provider did not send the browser back to gallra');
}
