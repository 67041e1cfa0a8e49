import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** Every file under `dir`, at any depth, as paths; none when `dir` does not exist. */
export function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir).flatMap((f) => {
      const p = path.join(dir, f);
      return statSync(p).isDirectory() ? filesUnder(p) : [p];
    });
  } catch {
    return [];
  }
}
