/**
 * Output files of an export: one NDJSON file per type under `<dataDir>/exports/<jobId>/`, appended
 * page by page. The job records each file's byte length with its progress; a resumed run first cuts
 * a file back to that length, so pages written before a crash but never recorded are not repeated.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';

/** The file name of a type's output. */
export function fileName(type: string): string {
  return `${type}.ndjson`;
}

/** Whether a requested name is one we could have written (no paths, no surprises). */
export function isFileName(name: string): boolean {
  return /^[A-Z][A-Za-z]{1,40}\.ndjson$/.test(name);
}

/**
 * Cuts each recorded file back to its recorded length, and removes the files of types nothing was
 * recorded for yet (a run that failed or died before recording its first page of a type leaves one).
 */
export async function restoreFiles(dir: string, files: Record<string, { bytes: number }>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [type, f] of Object.entries(files)) {
    const path = join(dir, fileName(type));
    const size = await stat(path).then((s) => s.size, () => -1);
    if (size < f.bytes) throw new Error(`export file ${fileName(type)} is shorter than recorded`);
    if (size > f.bytes) await truncate(path, f.bytes);
  }
  const recorded = new Set(Object.keys(files).map(fileName));
  for (const name of await readdir(dir)) {
    if (isFileName(name) && !recorded.has(name)) await rm(join(dir, name), { force: true });
  }
}

/** The UTF-8 bytes of NDJSON lines, each followed by a newline, encoded straight into one buffer (no joined string). */
export function ndjsonBuffer(lines: string[]): Buffer {
  let size = lines.length;
  for (const line of lines) size += Buffer.byteLength(line, 'utf8');
  const data = Buffer.allocUnsafe(size);
  let at = 0;
  for (const line of lines) {
    at += data.write(line, at, 'utf8');
    data[at++] = 0x0a;
  }
  return data;
}

/**
 * The output files one turn appends to. Each page is one write to a handle kept open for the turn;
 * `sync` flushes everything appended since the last sync, and the worker calls it before it records
 * progress that counts those bytes (so a recorded length is always on disk).
 */
export class OutputFiles {
  private readonly handles = new Map<string, FileHandle>();
  private readonly unsynced = new Set<FileHandle>();

  constructor(private readonly dir: string) {}

  /** Appends one page of NDJSON lines (given without their newlines) to the type's file; returns the bytes written. */
  async append(type: string, lines: string[]): Promise<number> {
    if (!lines.length) return 0;
    const data = ndjsonBuffer(lines);
    let fh = this.handles.get(type);
    if (!fh) {
      await mkdir(this.dir, { recursive: true });
      fh = await open(join(this.dir, fileName(type)), 'a');
      this.handles.set(type, fh);
    }
    // appendFile writes the whole buffer (a bare write may stop short).
    await fh.appendFile(data);
    this.unsynced.add(fh);
    return data.length;
  }

  /** Flushes every file appended to since the last sync to disk. */
  async sync(): Promise<void> {
    for (const fh of this.unsynced) await fh.sync();
    this.unsynced.clear();
  }

  /** Closes the files without flushing: bytes never recorded are cut off by the next run's restoreFiles. */
  async close(): Promise<void> {
    const all = [...this.handles.values()];
    this.handles.clear();
    this.unsynced.clear();
    await Promise.allSettled(all.map((fh) => fh.close()));
  }
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
