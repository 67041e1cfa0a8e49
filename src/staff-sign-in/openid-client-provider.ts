import * as oidc from 'openid-client';
import type { OidcConfig } from '../config.js';
import { SignInRejected, type IdentityProvider } from './identity-provider.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The IdentityProvider over `openid-client`: discovery from the issuer (once, retried after a
 * failure, so gallra starts while the provider is unreachable), authorization code flow with PKCE
 * (S256), state and nonce. Plain HTTP is accepted only for an issuer on loopback (a local test provider).
 */
export function createOpenIdClientProvider(config: OidcConfig): IdentityProvider {
  let discovered: Promise<oidc.Configuration> | undefined;
  const configuration = (): Promise<oidc.Configuration> => {
    if (!discovered) {
      const issuer = new URL(config.issuer);
      const insecure = issuer.protocol === 'http:' && LOOPBACK.has(issuer.hostname);
      discovered = oidc
        .discovery(issuer, config.clientId, config.clientSecret, config.clientSecret ? undefined : oidc.None(), insecure ? { execute: [oidc.allowInsecureRequests] } : undefined)
        .catch((err) => {
          discovered = undefined;
          throw err;
        });
    }
    return discovered;
  };

  return {
    async begin() {
      const c = await configuration();
      const transaction = { state: oidc.randomState(), nonce: oidc.randomNonce(), codeVerifier: oidc.randomPKCECodeVerifier() };
      const url = oidc.buildAuthorizationUrl(c, {
        redirect_uri: config.redirectUrl,
        scope: config.scopes,
        response_type: 'code',
        code_challenge: await oidc.calculatePKCECodeChallenge(transaction.codeVerifier),
        code_challenge_method: 'S256',
        state: transaction.state,
        nonce: transaction.nonce,
      });
      return { url: url.href, transaction };
    },

    async finish(callbackUrl, t, wanted) {
      const c = await configuration();
      let tokens;
      try {
        tokens = await oidc.authorizationCodeGrant(c, callbackUrl, {
          expectedState: t.state,
          expectedNonce: t.nonce,
          pkceCodeVerifier: t.codeVerifier,
          idTokenExpected: true,
        });
      } catch (err) {
        throw rejected(err);
      }
      const idClaims = tokens.claims();
      if (!idClaims) throw new SignInRejected('no-id-token', 'The provider sent no ID token');
      let claims: Record<string, unknown> & { sub: string } = { ...idClaims };
      // Some providers put profile and group claims only in UserInfo (the ID token carries sub alone).
      const missing = wanted.some((name) => !(name in claims) && !(name.includes('.') && name.split('.')[0]! in claims));
      if (missing && c.serverMetadata().userinfo_endpoint && tokens.access_token) {
        try {
          const info = await oidc.fetchUserInfo(c, tokens.access_token, idClaims.sub);
          claims = { ...info, ...claims };
        } catch (err) {
          throw rejected(err);
        }
      }
      return { issuer: c.serverMetadata().issuer, claims };
    },

    async signOutUrl() {
      const c = await configuration();
      if (!c.serverMetadata().end_session_endpoint) return undefined;
      return oidc.buildEndSessionUrl(c, { post_logout_redirect_uri: config.postLogoutRedirectUrl }).href;
    },
  };
}

/** OAuth error codes a provider may answer with (RFC 6749, OpenID Connect Core). */
const OAUTH_ERRORS = new Set([
  'invalid_request', 'unauthorized_client', 'access_denied', 'unsupported_response_type', 'invalid_scope', 'server_error', 'temporarily_unavailable',
  'invalid_grant', 'invalid_client', 'unsupported_grant_type', 'login_required', 'consent_required', 'interaction_required', 'account_selection_required',
]);

/**
 * openid-client's failures as one domain-facing error. The reason is one of a known, small set (the
 * callback's `error` parameter is whatever the sender wrote; it goes into metrics and logs).
 */
function rejected(err: unknown): SignInRejected {
  const e = err as { code?: string; error?: string; cause?: { error?: string } };
  const error = e.error ?? e.cause?.error;
  const reason = error && OAUTH_ERRORS.has(error) ? error : e.code && /^OAUTH_[A-Z_]{1,60}$/.test(e.code) ? e.code : 'invalid-response';
  return new SignInRejected(reason, 'The sign-in response could not be verified');
}
