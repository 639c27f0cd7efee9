/** A small FHIR JSON client over fetch (keep-alive by default) for talking to child servers. */
import { bearer } from './tokens';
import type { Role } from '../../../src/auth/principal';

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface FhirClient {
  get<T = any>(path: string): Promise<Reply<T>>;
  post<T = any>(path: string, body: unknown, headers?: Record<string, string>): Promise<Reply<T>>;
  put<T = any>(path: string, body: unknown, headers?: Record<string, string>): Promise<Reply<T>>;
}

/** A client for `fhir` (the API base) acting with `roles` for `org`. */
export function client(fhir: string, roles: Role[] = ['clinician', 'admin'], org?: string): FhirClient {
  const auth = bearer(roles, org);
  const call = async <T>(method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<Reply<T>> => {
    const headers: Record<string, string> = { Authorization: auth, Accept: 'application/fhir+json', ...extra };
    if (body !== undefined) headers['Content-Type'] = 'application/fhir+json';
    const res = await fetch(`${fhir}/${path.replace(/^\//, '')}`, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: keep the text so a failing assertion shows it.
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  };
  return {
    get: (path) => call('GET', path),
    post: (path, body, headers) => call('POST', path, body, headers),
    put: (path, body, headers) => call('PUT', path, body, headers),
  };
}

/** Runs `tasks` with at most `limit` in flight; results keep the tasks' order. */
export async function pool<T>(limit: number, count: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      out[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return out;
}
