export { createStaffSignIn, type StaffSignIn, type SignInOutcome, type PersonSessions, type Person, type OpenedSession } from './staff-sign-in.js';
export { SignInRejected, type IdentityProvider, type SignInTransaction } from './identity-provider.js';
export { createOpenIdClientProvider } from './openid-client-provider.js';
export { rolesFromClaims, claimValues, type RoleMap } from './role-mapping.js';
export { createSignInFailures, type FailedAttempt, type SignInFailures } from './sign-in-failures.js';
export { SignInFailuresStore } from './sign-in-failures-repository.js';
export { createUsersRepository } from './users-repository.js';
export type { User, UsersRepository } from './ports.js';
