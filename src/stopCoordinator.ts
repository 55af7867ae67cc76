import type { Observable, SchedulerLike, Subscription } from 'rxjs';
import { StoreWriteError } from './storeWriteError.js';
import type { JobEvent, StopReport } from './types.js';

export interface StopHooks {
  /** Nothing is queued or running any more. */
  isIdle(): boolean;
  /** The timeout passed: end whatever is left. */
  onDeadline(): void;
  /**
   * Everything has ended: release the scheduler's resources. If this throws, `report` rejects,
   * and a `StoreWriteError` carries the report as its `stopReport`.
   */
  onFinished(): void;
  nameOf(id: string): string;
  /** Jobs that have not ended, which a durable store keeps for the next start(). */
  kept(): StopReport['kept'];
}

/**
 * Watches the event stream while the scheduler stops: records what the stop cancelled and what
 * finished meanwhile, ends the rest at the deadline, and resolves the report once idle.
 */
export class StopCoordinator {
  readonly report: Promise<StopReport>;
  readonly #hooks: StopHooks;
  readonly #scheduler: SchedulerLike;
  readonly #cancelled: StopReport['cancelled'][number][] = [];
  readonly #watch: Subscription;
  #finishedDuringStop = 0;
  #deadline: Subscription | undefined;
  #resolve: (report: StopReport) => void = () => {};
  #reject: (error: unknown) => void = () => {};
  #done = false;
  /** Not finished before `begin`: the scheduler may still be starting its workers. */
  #begun = false;

  constructor(events: Observable<JobEvent>, scheduler: SchedulerLike, hooks: StopHooks) {
    this.#hooks = hooks;
    this.#scheduler = scheduler;
    this.report = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#watch = events.subscribe((event) => this.#observe(event));
  }

  /** Arms the deadline and finishes at once if nothing is left to wait for. */
  begin(timeout: number): void {
    this.#begun = true;
    if (this.check()) return;
    if (timeout !== Number.POSITIVE_INFINITY) {
      this.#deadline = this.#scheduler.schedule(() => {
        this.#deadline = undefined;
        this.#hooks.onDeadline();
        this.check();
      }, timeout);
    }
  }

  #observe(event: JobEvent): void {
    if (!event.final) {
      if (this.#done) return;
    } else if (event.type === 'cancelled') {
      const name = this.#hooks.nameOf(event.jobId);
      this.#cancelled.push({ id: event.jobId, name, previous: event.previous ?? 'pending' });
    } else if (event.type === 'completed' || event.type === 'failed') {
      this.#finishedDuringStop += 1;
    }
  }

  /** Finishes the stop if nothing is left to wait for; true once finished. */
  check(): boolean {
    if (this.#done) return true;
    if (!this.#begun || !this.#hooks.isIdle()) return false;
    this.#done = true;
    this.#deadline?.unsubscribe();
    this.#watch.unsubscribe();
    const report = {
      cancelled: this.#cancelled,
      kept: this.#hooks.kept(),
      finishedDuringStop: this.#finishedDuringStop,
    };
    try {
      this.#hooks.onFinished();
    } catch (error) {
      if (error instanceof StoreWriteError) error.stopReport = report;
      this.#reject(error);
      return true;
    }
    this.#resolve(report);
    return true;
  }
}
