/** What a sign-in must remember between sending the browser away and its return (kept in a cookie). */
export interface SignInTransaction {
  state: string;
  nonce: string;
  codeVerifier: string;
}

/**
 * The municipality's OpenID Connect provider (the port; `openid-client-provider.ts` is the adapter).
 * `finish` verifies everything the protocol asks (state, PKCE, the ID token's signature, issuer,
 * audience, expiry and nonce) and throws `SignInRejected` when anything does not hold.
 */
export interface IdentityProvider {
  /** Where to send the browser to sign in, and what to check when it comes back. */
  begin(): Promise<{ url: string; transaction: SignInTransaction }>;
  /** The verified claims of the person, from the ID token (completed from UserInfo where it has more). */
  finish(callbackUrl: URL, transaction: SignInTransaction, wanted: string[]): Promise<{ issuer: string; claims: Record<string, unknown> & { sub: string } }>;
  /** The provider's sign-out page (RP-initiated logout), or undefined when it offers none. */
  signOutUrl(): Promise<string | undefined>;
}

/** The provider's answer could not be verified (forged state, replayed code, wrong nonce, an error from the provider). */
export class SignInRejected extends Error {
  constructor(readonly reason: string, message: string) {
    super(message);
  }
}
