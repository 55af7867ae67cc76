import type { JobEvent, JobStatus } from './types.js';

/** The run of a job that a durable row records: what recovery queues, retries or re-arms. */
export interface RunSlot {
  readonly run: number;
  readonly attempt: number;
  readonly retryAt: number | undefined;
}

/** Where an outstanding run is: the job statuses recovery acts on. */
type RunState = Extract<JobStatus, 'queued' | 'running' | 'retrying'>;

interface TrackedRun {
  run: number;
  attempt: number;
  retryAt: number | undefined;
  /** `undefined` once the run has ended: it stays the slot until another run is heard of. */
  state: RunState | undefined;
}

interface JobRuns extends TrackedRun {
  /** More runs outstanding at once (`overlap: 'allow'`), by run: rare, so made on first need. */
  others: Map<number, TrackedRun> | undefined;
}

function stateAfter(type: JobEvent['type']): RunState | undefined {
  if (type === 'queued') return 'queued';
  if (type === 'started') return 'running';
  if (type === 'retrying') return 'retrying';
  return undefined;
}

/**
 * Which run each job's row records, followed from the event stream. A row holds one run, and
 * recovery acts on it as the row's status says: queues it, counts it interrupted, or re-arms
 * its retry. With `overlap: 'allow'` several runs of a job are under way at once, in different
 * states; the row records the earliest one in the state its status names, so that recovery
 * never queues a run that was waiting out a backoff, or runs again one that had ended.
 */
export class RunProgress {
  readonly #jobs = new Map<string, JobRuns>();

  /** The run a row with `status` records: the earliest outstanding in that state. */
  slot(id: string, status: JobStatus): RunSlot | undefined {
    const runs = this.#jobs.get(id);
    if (runs === undefined || runs.others === undefined || runs.state === status) return runs;
    let match: TrackedRun | undefined;
    for (const other of runs.others.values()) {
      if (other.state === status && (match === undefined || other.run < match.run)) match = other;
    }
    return match ?? runs;
  }

  /** What a row recovered from the database records, in the state its status names. */
  restore(id: string, slot: RunSlot, status: JobStatus): void {
    const state =
      status === 'queued' || status === 'running' || status === 'retrying' ? status : undefined;
    this.#jobs.set(id, { ...slot, state, others: undefined });
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
    const runs = this.#jobs.get(jobId);
    const state = stateAfter(type);
    if (state !== undefined) {
      const { attempt } = event;
      const retryAt = type === 'retrying' ? event.retryAt : undefined;
      if (runs === undefined) {
        this.#jobs.set(jobId, { run, attempt, retryAt, state, others: undefined });
      } else if (runs.run === run || runs.state === undefined) {
        // The usual case, one run at a time: updated in place, per event of every job.
        runs.run = run;
        runs.attempt = attempt;
        runs.retryAt = retryAt;
        runs.state = state;
      } else if (run < runs.run) {
        // An earlier run is back (a retry): it takes the first place, the later one waits.
        const later = {
          run: runs.run,
          attempt: runs.attempt,
          retryAt: runs.retryAt,
          state: runs.state,
        };
        runs.others ??= new Map();
        runs.others.set(later.run, later);
        runs.others.delete(run);
        Object.assign(runs, { run, attempt, retryAt, state });
      } else {
        runs.others ??= new Map();
        runs.others.set(run, { run, attempt, retryAt, state });
      }
      return;
    }
    if (type !== 'completed' && type !== 'failed' && type !== 'cancelled') return;
    if (runs === undefined) return;
    if (runs.run !== run) {
      runs.others?.delete(run);
      return;
    }
    const next = earliest(runs.others);
    if (next === undefined) {
      runs.state = undefined;
      return;
    }
    runs.others?.delete(next.run);
    Object.assign(runs, next);
  }
}

function earliest(runs: Map<number, TrackedRun> | undefined): TrackedRun | undefined {
  let first: TrackedRun | undefined;
  for (const run of runs?.values() ?? []) {
    if (first === undefined || run.run < first.run) first = run;
  }
  return first;
}
