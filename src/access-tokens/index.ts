export { createAccessTokens, TOKEN_CACHE_TTL_MS, type AccessTokens, type AccessToken } from './access-tokens.js';
export type { AccessTokenRepository } from './ports.js';
export { createAccessTokenRepository, createAccessTokenStoredText } from './access-token-repository.js';
