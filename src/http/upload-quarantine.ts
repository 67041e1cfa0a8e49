import { TooManyRequests, Unavailable } from '../shared/errors.js';

/**
 * Uploads whose signature cannot be checked before their last byte: until it is, their bytes are in
 * quarantine (streamed to the store's unfinished write, never committed). This bounds what anyone
 * who can reach the port can make the service hold: concurrent unverified uploads per client and in
 * total, and their bytes together (a declared Content-Length is reserved up front).
 */
export interface QuarantineSlot {
  /** Counts bytes received; throws Unavailable when the quota is used up. */
  add(bytes: number): void;
  /** The signature checked out, or the upload is over: its bytes and its place are free again. */
  release(): void;
}

export function createUploadQuarantine(opts: { maxBytes: number; maxUploads: number; maxPerClient: number }) {
  let bytesInUse = 0;
  let uploads = 0;
  const perClient = new Map<string, number>();
  const full = () => new Unavailable('quarantine-full', 'Too many unverified uploads are in progress; retry later');
  return {
    /** A place for one unverified upload from `client`; throws TooManyRequests or Unavailable. */
    admit(client: string, declaredBytes = 0): QuarantineSlot {
      const mine = perClient.get(client) ?? 0;
      if (mine >= opts.maxPerClient) {
        throw new TooManyRequests('too-many-uploads', `At most ${opts.maxPerClient} uploads at once from one address`);
      }
      const reserved = Math.max(0, declaredBytes);
      if (uploads >= opts.maxUploads || bytesInUse + reserved > opts.maxBytes) throw full();
      uploads++;
      perClient.set(client, mine + 1);
      bytesInUse += reserved;
      let charged = reserved;
      let received = 0;
      let released = false;
      return {
        add(n) {
          if (released) return;
          received += n;
          if (received <= charged) return;
          const more = received - charged;
          if (bytesInUse + more > opts.maxBytes) throw full();
          bytesInUse += more;
          charged = received;
        },
        release() {
          if (released) return;
          released = true;
          bytesInUse -= charged;
          uploads--;
          const left = (perClient.get(client) ?? 1) - 1;
          if (left > 0) perClient.set(client, left);
          else perClient.delete(client);
        },
      };
    },
    /** What is held now (for tests and the chaos run). */
    usage: () => ({ bytes: bytesInUse, uploads, clients: perClient.size }),
  };
}

export type UploadQuarantine = ReturnType<typeof createUploadQuarantine>;
