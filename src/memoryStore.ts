import type { JobStore } from './jobStore.js';
import type { JobEvent, JobSnapshot, JobStatus, JobType } from './types.js';

const TERMINAL: ReadonlySet<JobStatus> = new Set(['completed', 'failed', 'cancelled']);

/** Marks `result` and `error` as not set: `undefined` is a result a job may well have. */
const ABSENT: unique symbol = Symbol('absent');

/**
 * A job's snapshot as the store keeps it: one shape for every job from submission to eviction,
 * so updating it is a plain field write and never a change of hidden class. Fields a snapshot
 * leaves out are `undefined` (or `ABSENT`) here and are left out again by `snapshot()`.
 */
class StoredJob {
  readonly id: string;
  readonly name: string;
  readonly type: JobType;
  readonly priority: number;
  readonly createdAt: number;
  readonly parentId: string | undefined;
  status: JobStatus;
  attempts: number;
  runs: number;
  startedAt: number | undefined;
  finishedAt: number | undefined;
  nextRunAt: number | undefined;
  result: unknown = ABSENT;
  error: unknown = ABSENT;

  constructor(snapshot: JobSnapshot) {
    this.id = snapshot.id;
    this.name = snapshot.name;
    this.type = snapshot.type;
    this.priority = snapshot.priority;
    this.createdAt = snapshot.createdAt;
    this.parentId = snapshot.parentId;
    this.status = snapshot.status;
    this.attempts = snapshot.attempts;
    this.runs = snapshot.runs;
    this.startedAt = snapshot.startedAt;
    this.finishedAt = snapshot.finishedAt;
    this.nextRunAt = snapshot.nextRunAt;
    if ('result' in snapshot) this.result = snapshot.result;
    if ('error' in snapshot) this.error = snapshot.error;
  }

  snapshot(): JobSnapshot {
    const snapshot: { -readonly [K in keyof JobSnapshot]: JobSnapshot[K] } = {
      id: this.id,
      name: this.name,
      type: this.type,
      priority: this.priority,
      status: this.status,
      attempts: this.attempts,
      createdAt: this.createdAt,
      runs: this.runs,
    };
    if (this.startedAt !== undefined) snapshot.startedAt = this.startedAt;
    if (this.finishedAt !== undefined) snapshot.finishedAt = this.finishedAt;
    if (this.result !== ABSENT) snapshot.result = this.result;
    if (this.error !== ABSENT) snapshot.error = this.error;
    if (this.nextRunAt !== undefined) snapshot.nextRunAt = this.nextRunAt;
    if (this.parentId !== undefined) snapshot.parentId = this.parentId;
    return snapshot;
  }
}

/**
 * Finished ids in the order they finished. A Set used as a queue (`values().next()`, then
 * `delete`) slows down as deletions pile up at its front; this is an array read from a moving
 * head.
 */
class IdQueue {
  #ids: string[] = [];
  #head = 0;

  get size(): number {
    return this.#ids.length - this.#head;
  }

  push(id: string): void {
    this.#ids.push(id);
  }

  shift(): string {
    const id = this.#ids[this.#head] as string;
    this.#head += 1;
    if (this.#head >= 1024 && this.#head * 2 >= this.#ids.length) {
      this.#ids = this.#ids.slice(this.#head);
      this.#head = 0;
    }
    return id;
  }
}

/**
 * The default store: a fold of the event stream into a Map in submission order. Finished jobs are
 * kept up to `retention` per terminal status, the oldest evicted first, so memory stays flat
 * however many jobs pass through.
 */
export class MemoryStore implements JobStore {
  readonly #records = new Map<string, StoredJob>();
  readonly #finished = new Map<JobStatus, IdQueue>();
  /**
   * Finished children that `retention` would push out while their batch still runs, by batch:
   * the batch's result needs their outcomes, and after a restart it reads them from here.
   */
  readonly #held = new Map<string, string[]>();
  readonly #retention: number;
  readonly #onEvict: (id: string) => void;
  /** The record the last event was about: `queued` follows `submitted` for the same job. */
  #last: StoredJob | undefined;

  /** `onEvict` hears of each finished job that `retention` pushes out. */
  constructor(retention: number, onEvict: (id: string) => void = () => {}) {
    this.#retention = retention;
    this.#onEvict = onEvict;
  }

  /** Puts back a snapshot that an earlier process stored, in submission order. */
  restore(snapshot: JobSnapshot): void {
    this.#last = undefined;
    this.#records.set(snapshot.id, new StoredJob(snapshot));
    if (TERMINAL.has(snapshot.status)) this.#retain(snapshot.id, snapshot.status);
  }

  apply(event: JobEvent): void {
    if (event.type === 'submitted') {
      if (event.job === undefined) return;
      this.#last = new StoredJob(event.job);
      this.#records.set(event.jobId, this.#last);
      return;
    }
    const last = this.#last;
    const record = last?.id === event.jobId ? last : this.#records.get(event.jobId);
    if (record === undefined) return;
    this.#last = record;
    record.status = event.status;
    switch (event.type) {
      case 'queued':
        record.runs = Math.max(record.runs, event.run);
        record.nextRunAt = event.nextRunAt;
        break;
      case 'started':
        record.attempts += 1;
        record.startedAt = event.at;
        break;
      case 'retrying':
        // A record shows the last outcome alone: an earlier run's result goes with this error.
        record.result = ABSENT;
        record.error = event.error;
        // A cron or recurring job's stays its schedule's next fire: after a restart, one that
        // has passed stands for the fires missed while no process ran, and a retry's time is not
        // one of them.
        if (record.type !== 'cron' && record.type !== 'recurring') record.nextRunAt = event.retryAt;
        break;
      case 'completed':
        record.result = event.result;
        record.error = ABSENT;
        record.finishedAt = event.at;
        break;
      case 'failed':
        record.result = ABSENT;
        record.error = event.error;
        record.finishedAt = event.at;
        break;
      case 'cancelled':
        record.result = ABSENT;
        record.error = event.error;
        record.finishedAt = event.at;
        record.nextRunAt = undefined;
        break;
      case 'skipped':
        record.runs = Math.max(record.runs, event.run);
        record.nextRunAt = event.nextRunAt;
        if (event.final) {
          record.finishedAt = event.at;
          if ('result' in event) {
            record.result = event.result;
            record.error = ABSENT;
          }
          if ('error' in event) {
            record.result = ABSENT;
            record.error = event.error;
          }
        }
        break;
    }
    if (event.final && TERMINAL.has(event.status)) this.#retain(event.jobId, event.status);
  }

  get(id: string): JobSnapshot | undefined {
    return this.#records.get(id)?.snapshot();
  }

  list(status?: JobStatus): JobSnapshot[] {
    const snapshots: JobSnapshot[] = [];
    for (const record of this.#records.values()) {
      if (status === undefined || record.status === status) snapshots.push(record.snapshot());
    }
    return snapshots;
  }

  #retain(id: string, status: JobStatus): void {
    let ids = this.#finished.get(status);
    if (ids === undefined) {
      ids = new IdQueue();
      this.#finished.set(status, ids);
    }
    ids.push(id);
    if (ids.size > this.#retention) this.#pushOut(ids.shift());
    // A batch that ends lets go of the children it held. They finished before everything their
    // queues still keep, so they are the first out, not the newest in.
    const held = this.#held.get(id);
    if (held !== undefined) {
      this.#held.delete(id);
      for (const child of held) this.#evict(child);
    }
  }

  /** Evicts a job that `retention` pushed out, unless its batch still runs and holds it. */
  #pushOut(id: string): void {
    const parentId = this.#records.get(id)?.parentId;
    const parent = parentId === undefined ? undefined : this.#records.get(parentId);
    if (parent === undefined || TERMINAL.has(parent.status)) {
      this.#evict(id);
      return;
    }
    const children = this.#held.get(parent.id);
    if (children === undefined) this.#held.set(parent.id, [id]);
    else children.push(id);
  }

  #evict(id: string): void {
    if (!this.#records.delete(id)) return;
    if (this.#last?.id === id) this.#last = undefined;
    this.#onEvict(id);
  }
}
