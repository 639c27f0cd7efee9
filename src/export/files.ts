/**
 * Output files of an export: one NDJSON file per type under `<dataDir>/exports/<jobId>/`, appended
 * page by page. The job records each file's byte length after every page; a resumed run first cuts
 * a file back to that length, so a page written before a crash but never recorded is not repeated.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import { mkdir, open, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';

/** The file name of a type's output. */
export function fileName(type: string): string {
  return `${type}.ndjson`;
}

/** Whether a requested name is one we could have written (no paths, no surprises). */
export function isFileName(name: string): boolean {
  return /^[A-Z][A-Za-z]{1,40}\.ndjson$/.test(name);
}

/** Cuts each recorded file back to its recorded length (missing files are fine when nothing was recorded). */
export async function restoreFiles(dir: string, files: Record<string, { bytes: number }>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [type, f] of Object.entries(files)) {
    const path = join(dir, fileName(type));
    const size = await stat(path).then((s) => s.size, () => -1);
    if (size < f.bytes) throw new Error(`export file ${fileName(type)} is shorter than recorded`);
    if (size > f.bytes) await truncate(path, f.bytes);
  }
}

/** Appends NDJSON lines and flushes them to disk before the progress that counts them is recorded. */
export async function appendLines(dir: string, type: string, lines: string[]): Promise<number> {
  if (!lines.length) return 0;
  const data = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');
  await mkdir(dir, { recursive: true });
  const fh = await open(join(dir, fileName(type)), 'a');
  try {
    await fh.write(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return data.length;
}

/** Removes a job's files (cancel, expiry, failure). */
export async function removeFiles(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** A stream of one output file, or undefined when it is gone. */
export async function openFile(dir: string, name: string): Promise<ReadStream | undefined> {
  const path = join(dir, name);
  const ok = await stat(path).then((s) => s.isFile(), () => false);
  return ok ? createReadStream(path) : undefined;
}
