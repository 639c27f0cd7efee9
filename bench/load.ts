/**
 * Load generation: autocannon for throughput scenarios (many requests, fixed duration, N
 * connections), and a sequential timer for the heavy operations where one request is the unit.
 * Both keep every successful latency so the median and p95 are exact, not autocannon's buckets.
 */
import autocannon from 'autocannon';
import type { Target } from './server';

/** One request to send. */
export interface RequestSpec {
  path: string;
  method?: 'GET' | 'POST' | 'PUT';
  body?: string;
  headers?: Record<string, string>;
}

/** A throughput scenario driven by autocannon. */
export interface LoadScenario {
  name: string;
  /** What one request is, for the report. */
  shape: string;
  target: Target;
  expectStatus: number;
  /** Resources read or written per successful request; 0 when not meaningful (baselines). */
  resourcesPerRequest: number;
  /** Headers sent with every request (authorization, accept, content-type). */
  headers: Record<string, string>;
  /** Builds the next request (rotating ids, fresh fullUrls, current versions). */
  next(): RequestSpec;
  /** Sees every response (e.g. to learn a new version); called before the latency is kept. */
  onResponse?(status: number, headers: Record<string, string | string[]>): void;
  /** Extra sanity check of the first response body; returns a problem or undefined. */
  checkBody?(body: string): string | undefined;
  /**
   * Connections for this scenario instead of the run's: 1 measures a request's own latency, where
   * under 10 connections p95 is mostly time spent queued behind the other nine.
   */
  connections?: number;
}

/** What a scenario measured. */
export interface Measurement {
  name: string;
  shape: string;
  kind: 'load' | 'sequential' | 'job';
  /** Successful requests per second (undefined for one-shot jobs). */
  reqPerSec?: number;
  resourcesPerSec?: number;
  medianMs: number;
  p95Ms: number;
  /** Requests timed (2xx). */
  samples: number;
  non2xx: number;
  errors: number;
  statusCodes: Record<string, number>;
  /** Peak RSS of the serving process during this scenario, kB. */
  peakRssKb: number;
  /** CPU time the serving process spent per timed 2xx response, µs (load scenarios on Linux). */
  cpuUsPerRequest?: number;
  /** Free-form extra facts for the report (resources exported, seconds taken…). */
  note?: string;
  /** The target this ran against (baselines are looked up by it). */
  target: string;
  /** Set when the scenario ran on its own number of connections (its req/s is then not comparable). */
  connections?: number;
}

/** Nearest-rank percentile over sorted samples. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** One request exactly like the measured ones, so a broken scenario fails loudly, not as noise. */
export async function sanityRequest(s: LoadScenario): Promise<void> {
  const spec = s.next();
  const url = `${s.target.base}${spec.path}`;
  let problem: string | undefined;
  let text = '';
  try {
    const res = await fetch(url, { method: spec.method ?? 'GET', headers: { ...s.headers, ...spec.headers }, body: spec.body });
    text = await res.text();
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => (headers[k] = v));
    s.onResponse?.(res.status, headers);
    if (res.status !== s.expectStatus) problem = `status ${res.status}, expected ${s.expectStatus}`;
    else problem = s.checkBody?.(text);
  } catch (err) {
    problem = (err as Error).message;
  }
  if (problem) throw new Error(`sanity request for "${s.name}" failed (${spec.method ?? 'GET'} ${url}): ${problem}\n${text.slice(0, 600)}`);
}

/** Runs the scenario for `seconds` over `connections` keep-alive connections (no pipelining). */
export async function runLoad(s: LoadScenario, seconds: number, connections: number): Promise<Omit<Measurement, 'peakRssKb'>> {
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((done, fail) => {
    const instance = autocannon(
      {
        url: s.target.base,
        connections,
        duration: seconds,
        // At a million resources a slow search can take seconds; autocannon's default (10 s) would
        // count it as an error instead of a latency.
        timeout: 120,
        headers: s.headers,
        requests: [
          {
            // Every request is built afresh; autocannon merges the returned fields over the defaults.
            setupRequest: (req) => {
              const spec = s.next();
              return { ...req, path: spec.path, method: spec.method ?? 'GET', body: spec.body, headers: { ...s.headers, ...spec.headers } };
            },
            ...(s.onResponse ? { onResponse: (status: number, _body: string, _ctx: object, headers: autocannon.Request['headers']) => s.onResponse!(status, (headers ?? {}) as Record<string, string | string[]>) } : {}),
          },
        ],
      },
      (err, res) => (err ? fail(err) : done(res)),
    );
    // autocannon stops itself after `duration`; this only fires if the server wedges a socket.
    const watchdog = setTimeout(() => {
      instance.stop();
      fail(new Error(`"${s.name}" did not finish within ${seconds + 180} s`));
    }, (seconds + 180) * 1000);
    watchdog.unref();
    instance.on('done', () => clearTimeout(watchdog));
    // autocannon only publishes fixed percentiles (no p95), so keep every 2xx latency ourselves.
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) latencies.push(ms);
    });
  });
  latencies.sort((a, b) => a - b);
  const reqPerSec = result['2xx'] / result.duration;
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = (stat as { count?: number }).count ?? 0;
  return {
    name: s.name,
    shape: s.shape,
    kind: 'load',
    target: s.target.name,
    reqPerSec,
    ...(s.resourcesPerRequest > 0 ? { resourcesPerSec: reqPerSec * s.resourcesPerRequest } : {}),
    medianMs: percentile(latencies, 0.5),
    p95Ms: percentile(latencies, 0.95),
    samples: latencies.length,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    statusCodes,
  };
}

/**
 * Sends requests one after another (one connection) and times each. Only 2xx latencies are kept;
 * other statuses are counted, so one failing operation shows in the table instead of ending the run.
 */
export async function runSequential(
  target: Target,
  headers: Record<string, string>,
  specs: RequestSpec[],
): Promise<{ latencies: number[]; bodies: string[]; non2xx: number; statusCodes: Record<string, number>; firstFailure?: string }> {
  const latencies: number[] = [];
  const bodies: string[] = [];
  const statusCodes: Record<string, number> = {};
  let non2xx = 0;
  let firstFailure: string | undefined;
  for (const spec of specs) {
    const t0 = performance.now();
    const res = await fetch(`${target.base}${spec.path}`, { method: spec.method ?? 'GET', headers: { ...headers, ...spec.headers }, body: spec.body });
    const text = await res.text();
    const ms = performance.now() - t0;
    statusCodes[res.status] = (statusCodes[res.status] ?? 0) + 1;
    if (res.status >= 200 && res.status < 300) {
      latencies.push(ms);
      bodies.push(text);
    } else {
      non2xx++;
      firstFailure ??= `${spec.method ?? 'GET'} ${spec.path}: status ${res.status} ${text.slice(0, 300)}`;
    }
  }
  return { latencies, bodies, non2xx, statusCodes, ...(firstFailure ? { firstFailure } : {}) };
}
