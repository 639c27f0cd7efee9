/**
 * The folder holding package.json (and schemas/, generated/). Walking up works both from src/
 * under tsx or jest and from dist/src/ in the built image, where a fixed '../..' would land in dist/.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cached: string | undefined;

/** The project root, found once from this file's folder. */
export function projectRoot(): string {
  if (cached) return cached;
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the project root (no package.json above ${__dirname})`);
    dir = parent;
  }
  cached = dir;
  return dir;
}
