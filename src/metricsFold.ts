import { DDSketch } from '@datadog/sketches-js';
import type { JobEvent, JobStatus, Quantiles, SchedulerMetrics } from './types.js';

/**
 * The metrics as a fold over the event stream. Gauges move by each event's `previous` and
 * `status`; latencies go into DDSketches (1% relative error), whose memory is bounded however
 * many jobs pass and which merge across processes.
 */
export class MetricsFold {
  readonly #maxWorkers: number;
  /** Jobs per status, indexed by `statusIndex`: four updates per job, by number, not by key. */
  readonly #byStatus: number[] = [0, 0, 0, 0, 0, 0, 0];
  #totalJobs = 0;
  #completedRuns = 0;
  #failedRuns = 0;
  #cancelled = 0;
  #retriedAttempts = 0;
  #timedOutAttempts = 0;
  #skippedRuns = 0;
  #busyWorkers = 0;
  #finishedAttempts = 0;
  #execTimeSum = 0;
  #execTime = new DDSketch({ relativeAccuracy: 0.01 });
  #waitTime = new DDSketch({ relativeAccuracy: 0.01 });
  #throughput = 0;
  #finishedAtLastTick = 0;
  #lastTickAt: number;

  constructor(maxWorkers: number, now: number) {
    this.#maxWorkers = maxWorkers;
    this.#lastTickAt = now;
  }

  get busyWorkers(): number {
    return this.#busyWorkers;
  }

  /** Counts a job recovered from a durable store in its status, as if its events had been seen. */
  restore(status: JobStatus): void {
    this.#add(status, 1);
  }

  apply(event: JobEvent): void {
    if (event.previous !== undefined) this.#add(event.previous, -1);
    this.#add(event.status, 1);
    if (event.execTime !== undefined) {
      this.#busyWorkers -= 1;
      this.#finishedAttempts += 1;
      this.#execTimeSum += event.execTime;
      this.#execTime.accept(Math.max(0, event.execTime));
    }
    if (event.timedOut === true) this.#timedOutAttempts += 1;
    switch (event.type) {
      case 'submitted':
        this.#totalJobs += 1;
        break;
      case 'started':
        this.#busyWorkers += 1;
        this.#waitTime.accept(Math.max(0, event.waitTime));
        break;
      case 'retrying':
        this.#retriedAttempts += 1;
        break;
      case 'completed':
        this.#completedRuns += 1;
        break;
      case 'failed':
        this.#failedRuns += 1;
        break;
      case 'cancelled':
        // A job with several attempts running emits one per attempt; only the last ends it.
        if (event.final) this.#cancelled += 1;
        break;
      case 'skipped':
        this.#skippedRuns += 1;
        break;
      default:
        break;
    }
  }

  /** Opens the first metrics interval, at start(): the time before it ran nothing. */
  begin(now: number): void {
    this.#lastTickAt = now;
    this.#finishedAtLastTick = this.#completedRuns + this.#failedRuns;
  }

  /** Closes a metrics interval: throughput is the runs finished since the last one, per second. */
  tick(now: number): void {
    const finished = this.#completedRuns + this.#failedRuns;
    const seconds = (now - this.#lastTickAt) / 1000;
    this.#throughput = seconds > 0 ? (finished - this.#finishedAtLastTick) / seconds : 0;
    this.#finishedAtLastTick = finished;
    this.#lastTickAt = now;
  }

  #add(status: JobStatus, delta: number): void {
    const index = statusIndex(status);
    this.#byStatus[index] = (this.#byStatus[index] as number) + delta;
  }

  #count(status: JobStatus): number {
    return this.#byStatus[statusIndex(status)] as number;
  }

  snapshot(): SchedulerMetrics {
    return {
      totalJobs: this.#totalJobs,
      queuedJobs: this.#count('queued'),
      runningJobs: this.#count('running'),
      pendingJobs: this.#count('pending'),
      retryingJobs: this.#count('retrying'),
      completedJobs: this.#completedRuns,
      failedJobs: this.#failedRuns,
      cancelledJobs: this.#cancelled,
      retriedAttempts: this.#retriedAttempts,
      timedOutAttempts: this.#timedOutAttempts,
      skippedRuns: this.#skippedRuns,
      averageExecTime:
        this.#finishedAttempts === 0 ? 0 : this.#execTimeSum / this.#finishedAttempts,
      execTime: quantiles(this.#execTime),
      waitTime: quantiles(this.#waitTime),
      throughput: this.#throughput,
      busyWorkers: this.#busyWorkers,
      maxWorkers: this.#maxWorkers,
    };
  }
}

/** A switch on strings the engine has interned compares pointers: cheaper than a keyed lookup. */
function statusIndex(status: JobStatus): number {
  switch (status) {
    case 'pending':
      return 0;
    case 'queued':
      return 1;
    case 'running':
      return 2;
    case 'retrying':
      return 3;
    case 'completed':
      return 4;
    case 'failed':
      return 5;
    case 'cancelled':
      return 6;
  }
}

function quantiles(sketch: DDSketch): Quantiles {
  if (sketch.count === 0) return { p50: 0, p95: 0, p99: 0 };
  return {
    p50: sketch.getValueAtQuantile(0.5),
    p95: sketch.getValueAtQuantile(0.95),
    p99: sketch.getValueAtQuantile(0.99),
  };
}
