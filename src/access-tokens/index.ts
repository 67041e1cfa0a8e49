export { createAccessTokens, type AccessTokens, type AccessToken } from './access-tokens.js';
