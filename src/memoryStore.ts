import type { JobStore } from './jobStore.js';
import type { JobEvent, JobSnapshot, JobStatus } from './types.js';

type MutableSnapshot = { -readonly [K in keyof JobSnapshot]: JobSnapshot[K] };

const TERMINAL: ReadonlySet<JobStatus> = new Set(['completed', 'failed', 'cancelled']);

/**
 * The default store: a fold of the event stream into a Map in submission order. Finished jobs are
 * kept up to `retention` per terminal status, the oldest evicted first, so memory stays flat
 * however many jobs pass through.
 */
export class MemoryStore implements JobStore {
  readonly #records = new Map<string, MutableSnapshot>();
  readonly #finished = new Map<JobStatus, Set<string>>();
  readonly #retention: number;
  readonly #onEvict: (id: string) => void;

  /** `onEvict` hears of each finished job that `retention` pushes out. */
  constructor(retention: number, onEvict: (id: string) => void = () => {}) {
    this.#retention = retention;
    this.#onEvict = onEvict;
  }

  /** Puts back a snapshot that an earlier process stored, in submission order. */
  restore(snapshot: JobSnapshot): void {
    this.#records.set(snapshot.id, { ...snapshot });
    if (TERMINAL.has(snapshot.status)) this.#retain(snapshot.id, snapshot.status);
  }

  apply(event: JobEvent): void {
    if (event.type === 'submitted') {
      if (event.job !== undefined) this.#records.set(event.jobId, { ...event.job });
      return;
    }
    const record = this.#records.get(event.jobId);
    if (record === undefined) return;
    record.status = event.status;
    switch (event.type) {
      case 'queued':
        record.runs = Math.max(record.runs, event.run);
        setOptional(record, 'nextRunAt', event.nextRunAt);
        break;
      case 'started':
        record.attempts += 1;
        record.startedAt = event.at;
        break;
      case 'retrying':
        record.error = event.error;
        setOptional(record, 'nextRunAt', event.retryAt);
        break;
      case 'completed':
        record.result = event.result;
        delete record.error;
        record.finishedAt = event.at;
        break;
      case 'failed':
        record.error = event.error;
        record.finishedAt = event.at;
        break;
      case 'cancelled':
        record.error = event.error;
        record.finishedAt = event.at;
        delete record.nextRunAt;
        break;
      case 'skipped':
        record.runs = Math.max(record.runs, event.run);
        setOptional(record, 'nextRunAt', event.nextRunAt);
        if (event.final) {
          record.finishedAt = event.at;
          if ('result' in event) record.result = event.result;
          if ('error' in event) record.error = event.error;
        }
        break;
    }
    if (event.final && TERMINAL.has(event.status)) this.#retain(event.jobId, event.status);
  }

  get(id: string): JobSnapshot | undefined {
    const record = this.#records.get(id);
    return record === undefined ? undefined : { ...record };
  }

  list(status?: JobStatus): JobSnapshot[] {
    const snapshots: JobSnapshot[] = [];
    for (const record of this.#records.values()) {
      if (status === undefined || record.status === status) snapshots.push({ ...record });
    }
    return snapshots;
  }

  #retain(id: string, status: JobStatus): void {
    let ids = this.#finished.get(status);
    if (ids === undefined) {
      ids = new Set();
      this.#finished.set(status, ids);
    }
    ids.add(id);
    if (ids.size <= this.#retention) return;
    const oldest = ids.values().next().value as string;
    ids.delete(oldest);
    this.#records.delete(oldest);
    this.#onEvict(oldest);
  }
}

function setOptional<K extends 'nextRunAt'>(
  record: MutableSnapshot,
  key: K,
  value: number | undefined,
): void {
  if (value === undefined) delete record[key];
  else record[key] = value;
}
