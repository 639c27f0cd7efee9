/**
 * Background workers over the store's durable job queues. Each instance polls; claiming is atomic
 * in the store, so several linkcare instances share the work and a crashed worker's job is
 * claimed again when its lease runs out.
 */
import type { Logger } from 'pino';
import type { Job } from '../store/port';
import type { FhirContext } from '../fhir/context';

export interface Worker {
  queue: string;
  /** How often to look for due jobs when idle. */
  intervalMs: number;
  /** How long a claimed job is ours before another instance may take it over. */
  leaseMs: number;
  /** Jobs claimed per poll. */
  batch: number;
  /**
   * Does one job. It must end the job itself (store.updateJob to done/failed/queued with a later
   * notBefore); a job left running is retried when its lease expires.
   */
  run(ctx: FhirContext, job: Job, log: Logger): Promise<void>;
}

/** Running workers: `kick` polls a queue now (after a commit that enqueued), `stop` waits for jobs in hand. */
export interface WorkerPool {
  kick(queue: string): void;
  stop(): Promise<void>;
}

/** Starts polling each worker's queue; timers never keep the process alive on their own. */
export function startWorkers(ctx: FhirContext, workers: readonly Worker[], log: Logger): WorkerPool {
  let stopped = false;
  const inFlight = new Set<Promise<void>>();
  const timers = new Map<string, NodeJS.Timeout>();
  const busy = new Set<string>();

  async function poll(worker: Worker): Promise<void> {
    if (stopped || busy.has(worker.queue)) return;
    busy.add(worker.queue);
    try {
      for (;;) {
        const jobs = await ctx.store.claimJobs(worker.queue, { now: new Date().toISOString(), leaseMs: worker.leaseMs, limit: worker.batch });
        for (const job of jobs) {
          await worker.run(ctx, job, log).catch((err: unknown) => {
            log.warn({ queue: worker.queue, job: job.id, err: err instanceof Error ? err.name : 'error' }, 'job failed; retried after its lease');
          });
        }
        if (jobs.length < worker.batch || stopped) break;
      }
    } catch (err) {
      if (!stopped) log.warn({ queue: worker.queue, err: err instanceof Error ? err.name : 'error' }, 'job poll failed');
    } finally {
      busy.delete(worker.queue);
    }
  }

  function schedule(worker: Worker, delay: number): void {
    if (stopped) return;
    const timer = setTimeout(() => {
      const p = poll(worker).finally(() => {
        inFlight.delete(p);
        schedule(worker, worker.intervalMs);
      });
      inFlight.add(p);
    }, delay);
    timer.unref();
    timers.set(worker.queue, timer);
  }

  for (const w of workers) schedule(w, w.intervalMs);
  return {
    kick(queue) {
      const w = workers.find((x) => x.queue === queue);
      if (!w || stopped) return;
      clearTimeout(timers.get(queue));
      schedule(w, 0);
    },
    async stop() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t);
      await Promise.all([...inFlight]);
    },
  };
}
