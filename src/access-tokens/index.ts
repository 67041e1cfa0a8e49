export { createAccessTokens, TOKEN_CACHE_TTL_MS, type AccessTokens, type AccessToken } from './access-tokens.js';
