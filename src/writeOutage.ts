import type { SchedulerLike, Subscription } from 'rxjs';
import type { StoreWriteError } from './storeWriteError.js';

const FIRST_RETRY_MS = 1_000;
const LAST_RETRY_MS = 60_000;

/**
 * A database that cannot be written to (a full disk): reports the outage once, and tries the
 * write again on `scheduler`, waiting twice as long each time from 1 s up to a minute, with or
 * without new transitions. Without the timer, the last completions of a scheduler that goes idle
 * during an outage would wait for the next event; retried at every event-loop turn instead, a
 * busy scheduler would read its growing intake file back thousands of times a second.
 */
export class WriteOutage {
  readonly #scheduler: SchedulerLike;
  readonly #report: (error: StoreWriteError) => void;
  readonly #retry: () => void;
  #timer: Subscription | undefined;
  #delay = 0;

  constructor(
    scheduler: SchedulerLike,
    report: (error: StoreWriteError) => void,
    retry: () => void,
  ) {
    this.#scheduler = scheduler;
    this.#report = report;
    this.#retry = retry;
  }

  /** True from a failed write until one succeeds. */
  get ongoing(): boolean {
    return this.#delay > 0;
  }

  /** A background write failed: report it if it is the first of this outage, and retry later. */
  failed(error: StoreWriteError): void {
    const first = this.#delay === 0;
    this.#delay = first ? FIRST_RETRY_MS : Math.min(this.#delay * 2, LAST_RETRY_MS);
    this.#timer?.unsubscribe();
    this.#timer = this.#scheduler.schedule(() => {
      this.#timer = undefined;
      this.#retry();
    }, this.#delay);
    if (!first) return;
    try {
      this.#report(error);
    } catch (thrown) {
      // A reporter that fails must not take the process down from a timer or setImmediate.
      process.emitWarning(thrown instanceof Error ? thrown : new Error(String(thrown)));
    }
  }

  /** A write succeeded: the outage, if there was one, is over. */
  ended(): void {
    this.dispose();
    this.#delay = 0;
  }

  dispose(): void {
    this.#timer?.unsubscribe();
    this.#timer = undefined;
  }
}
