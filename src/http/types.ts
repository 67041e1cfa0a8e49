import type { Principal } from '../shared/principal.js';

export type { Principal, Role } from '../shared/principal.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      requestId: string;
      principal?: Principal;
    }
  }
}
