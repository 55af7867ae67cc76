import type { JobEvent } from './types.js';

/** The run of a job that a durable row records: what recovery queues, retries or re-arms. */
export interface RunSlot {
  run: number;
  attempt: number;
  retryAt: number | undefined;
}

/** A job's runs that are queued, running or waiting out a backoff. */
interface Outstanding extends RunSlot {
  /** `run` has ended, but it stays the row's slot until another run starts. */
  ended: boolean;
  /** More runs outstanding at once (`overlap: 'allow'`), by run: rare, so made on first need. */
  others: Map<number, RunSlot> | undefined;
}

/**
 * Which run each job's row records, followed from the event stream. A row holds one: the
 * earliest run not done. With `overlap: 'allow'` several runs of a job may be under way, and
 * the one last named is not always one that is left: a run that started after another was
 * queued, and ended, must not be the one the next process runs again.
 */
export class RunProgress {
  readonly #jobs = new Map<string, Outstanding>();

  get(id: string): RunSlot | undefined {
    return this.#jobs.get(id);
  }

  /**
   * What a row recovered from the database records; `outstanding` when its job was queued,
   * running or retrying. Otherwise the run has ended, and the next one to start replaces it.
   */
  restore(id: string, slot: RunSlot, outstanding: boolean): void {
    this.#jobs.set(id, { ...slot, ended: !outstanding, others: undefined });
  }

  clear(): void {
    this.#jobs.clear();
  }

  track(event: JobEvent): void {
    const { type, jobId, run } = event;
    if (event.final) {
      this.#jobs.delete(jobId);
      return;
    }
    const progress = this.#jobs.get(jobId);
    if (type === 'queued' || type === 'started' || type === 'retrying') {
      const retryAt = type === 'retrying' ? event.retryAt : undefined;
      if (progress === undefined) {
        this.#jobs.set(jobId, {
          run,
          attempt: event.attempt,
          retryAt,
          ended: false,
          others: undefined,
        });
      } else if (progress.run === run || progress.ended) {
        progress.run = run;
        progress.attempt = event.attempt;
        progress.retryAt = retryAt;
        progress.ended = false;
      } else if (run < progress.run) {
        // An earlier run is back (a retry): it takes the slot, the later one waits beside it.
        const later = { run: progress.run, attempt: progress.attempt, retryAt: progress.retryAt };
        progress.others ??= new Map();
        progress.others.set(progress.run, later);
        progress.others.delete(run);
        progress.run = run;
        progress.attempt = event.attempt;
        progress.retryAt = retryAt;
      } else {
        progress.others ??= new Map();
        progress.others.set(run, { run, attempt: event.attempt, retryAt });
      }
      return;
    }
    if (type !== 'completed' && type !== 'failed' && type !== 'cancelled') return;
    if (progress === undefined) return;
    if (progress.run !== run) {
      progress.others?.delete(run);
      return;
    }
    const next = earliest(progress.others);
    if (next === undefined) {
      progress.ended = true;
      return;
    }
    progress.others?.delete(next.run);
    progress.run = next.run;
    progress.attempt = next.attempt;
    progress.retryAt = next.retryAt;
  }
}

function earliest(runs: Map<number, RunSlot> | undefined): RunSlot | undefined {
  let first: RunSlot | undefined;
  for (const slot of runs?.values() ?? [])
    if (first === undefined || slot.run < first.run) first = slot;
  return first;
}
