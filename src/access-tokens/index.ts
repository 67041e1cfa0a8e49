export { createAccessTokens, TOKEN_CACHE_TTL_MS, type AccessTokens, type AccessToken } from './access-tokens.js';
export { createAccessTokenRepository, type AccessTokenRepository, createAccessTokenStoredText } from './access-token-repository.js';
