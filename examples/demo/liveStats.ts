// What the demo's views show, folded from the scheduler's two streams: `events$` for what moves
// at every transition (queue depth, busy workers, counts, the batch, the cron job, a tail of
// events) and `metrics$` for what only makes sense over an interval (throughput, quantiles).
import type { JobEvent, JobScheduler, SchedulerMetrics } from '../../src/index.js';
import { Priority } from '../../src/index.js';

/** The four levels, highest first, as the dashboard lists them. */
export const PRIORITY_LEVELS = [
  ['critical', Priority.Critical],
  ['high', Priority.High],
  ['normal', Priority.Normal],
  ['low', Priority.Low],
] as const;

export interface NameStats {
  completed: number;
  failed: number;
  retried: number;
  timedOut: number;
  cancelled: number;
  attempts: number;
  execMs: number;
}

export interface TailEntry {
  readonly at: number;
  readonly type: JobEvent['type'];
  readonly jobId: string;
  readonly priority: number;
  readonly detail: string;
}

interface TrackedJob {
  readonly name: string;
  readonly priority: number;
  readonly parentId: string | undefined;
  waited: number;
}

const TAIL_LENGTH = 5;

export class LiveStats {
  readonly queuedByPriority = new Map<number, number>(PRIORITY_LEVELS.map(([, p]) => [p, 0]));
  readonly byName = new Map<string, NameStats>();
  readonly tail: TailEntry[] = [];
  readonly batch = { id: '', name: '', total: 0, completed: 0, failed: 0 };
  readonly cron = { id: '', name: '', every: '', runs: 0, nextRunAt: 0 };
  busyWorkers = 0;
  completed = 0;
  failed = 0;
  retried = 0;
  timedOut = 0;
  skipped = 0;
  cancelled = 0;
  /** The latest `metrics$` snapshot, or `getMetrics()` until the first one. */
  metrics: SchedulerMetrics;

  // Only jobs that have not ended, so a long run does not grow this map.
  readonly #jobs = new Map<string, TrackedJob>();

  constructor(scheduler: JobScheduler) {
    this.metrics = scheduler.getMetrics();
    scheduler.events$.subscribe((event) => this.#apply(event));
    scheduler.metrics$.subscribe((snapshot) => {
      this.metrics = snapshot;
    });
  }

  /** Names the batch and the cron job whose progress the dashboard follows. */
  follow(
    batch: { readonly id: string; readonly name: string; readonly total: number },
    cron: { readonly id: string; readonly name: string; readonly every: string },
  ): void {
    Object.assign(this.batch, { id: batch.id, name: batch.name, total: batch.total });
    Object.assign(this.cron, { id: cron.id, name: cron.name, every: cron.every });
  }

  #apply(event: JobEvent): void {
    if (event.job !== undefined) {
      const { name, priority, parentId, nextRunAt } = event.job;
      this.#jobs.set(event.jobId, { name, priority, parentId, waited: 0 });
      if (event.jobId === this.cron.id && nextRunAt !== undefined) this.cron.nextRunAt = nextRunAt;
    }
    const job = this.#jobs.get(event.jobId);
    if (job === undefined) return;
    const stats = this.#statsOf(job.name);
    if (event.previous === 'queued') this.#moveQueued(job.priority, -1);
    if (event.status === 'queued') this.#moveQueued(job.priority, 1);
    if (event.execTime !== undefined) {
      this.busyWorkers -= 1;
      stats.attempts += 1;
      stats.execMs += event.execTime;
    }
    if (event.timedOut === true) {
      this.timedOut += 1;
      stats.timedOut += 1;
    }
    if (event.jobId === this.cron.id && event.nextRunAt !== undefined) {
      this.cron.nextRunAt = event.nextRunAt;
    }
    switch (event.type) {
      case 'started':
        this.busyWorkers += 1;
        job.waited = event.waitTime;
        if (event.jobId === this.cron.id && event.attempt === 1) this.cron.runs = event.run;
        break;
      case 'completed':
        this.completed += 1;
        stats.completed += 1;
        if (job.parentId === this.batch.id) this.batch.completed += 1;
        this.#remember(
          event,
          job,
          event.jobId === this.batch.id
            ? `all ${this.batch.total} children done`
            : `waited ${duration(job.waited)}, ran ${duration(event.execTime)}`,
        );
        break;
      case 'failed':
        this.failed += 1;
        stats.failed += 1;
        if (job.parentId === this.batch.id) this.batch.failed += 1;
        this.#remember(
          event,
          job,
          event.timedOut === true ? `#${event.attempt} timed out, gave up` : why(event),
        );
        break;
      case 'retrying':
        this.retried += 1;
        stats.retried += 1;
        this.#remember(
          event,
          job,
          `#${event.attempt} ${event.timedOut === true ? 'timed out' : 'failed'}, retry in ${duration(event.retryAt - event.at)}`,
        );
        break;
      case 'skipped':
        this.skipped += 1;
        this.#remember(event, job, `run ${event.run} skipped (${event.reason})`);
        break;
      case 'cancelled':
        if (!event.final) break;
        this.cancelled += 1;
        stats.cancelled += 1;
        if (job.parentId === this.batch.id) this.batch.failed += 1;
        break;
      default:
        break;
    }
    if (event.final) this.#jobs.delete(event.jobId);
  }

  #statsOf(name: string): NameStats {
    let stats = this.byName.get(name);
    if (stats === undefined) {
      stats = {
        completed: 0,
        failed: 0,
        retried: 0,
        timedOut: 0,
        cancelled: 0,
        attempts: 0,
        execMs: 0,
      };
      this.byName.set(name, stats);
    }
    return stats;
  }

  #moveQueued(priority: number, by: number): void {
    this.queuedByPriority.set(priority, (this.queuedByPriority.get(priority) ?? 0) + by);
  }

  #remember(event: JobEvent, job: TrackedJob, detail: string): void {
    // The batch's 50 children would crowd the tail out; its progress bar shows them instead.
    if (job.parentId !== undefined) return;
    this.tail.push({
      at: event.at,
      type: event.type,
      jobId: event.jobId,
      priority: job.priority,
      detail,
    });
    if (this.tail.length > TAIL_LENGTH) this.tail.shift();
  }
}

/** `850 ms`, `1.2 s`: short enough for a dashboard cell. */
export function duration(ms: number | undefined): string {
  if (ms === undefined) return '-';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Local time of day, `14:03:07`. */
export function clockTime(epochMs: number): string {
  return new Date(epochMs).toTimeString().slice(0, 8);
}

export function priorityName(priority: number): string {
  return PRIORITY_LEVELS.find(([, level]) => level === priority)?.[0] ?? String(priority);
}

function why(event: JobEvent): string {
  return event.error instanceof Error ? event.error.message : String(event.error);
}
