import { Observable, type Subject } from 'rxjs';
import type { JobEvent } from './types.js';

/**
 * Hands events to the Subject behind `events$`, keeping each job tree's events in order for
 * every subscriber. A subscriber that acts on an event (cancels its job on `started`, cancels a
 * batch on its child's end) makes a new one while the Subject is still handing out the first;
 * sent at once, it would reach the later subscribers before the event that caused it, and they
 * would see a job's final `cancelled` before its `started`. Such an event, about a job of the
 * tree (a batch and its children) whose event is being sent, waits until the outermost event
 * has reached everyone, and so does every event after it, so that no effect overtakes its cause.
 *
 * Events about other jobs still go out at once, nested, as a Subject sends them: a subscriber
 * that cancels a job on its `submitted` event, when another subscriber submitted it, must hear
 * of it before the job begins.
 */
export class EventOutlet {
  readonly #target: Subject<JobEvent>;
  /** The batch a job belongs to, or the job itself. */
  readonly #rootOf: (jobId: string) => string;
  /** Folds an event into the store and the metrics, before it is sent. */
  readonly #fold: (event: JobEvent) => void;
  /** The events being sent, outermost first; empty when none is. */
  readonly #sending: JobEvent[] = [];
  readonly #waiting: JobEvent[] = [];
  /** The next waiting event to send. */
  #head = 0;
  /**
   * The events as `events$` gives them: a subscription gets those that happen after it. One made
   * while events wait skips them: the store and the metrics it starts from already hold them.
   */
  readonly events: Observable<JobEvent>;

  constructor(
    target: Subject<JobEvent>,
    rootOf: (jobId: string) => string,
    fold: (event: JobEvent) => void,
  ) {
    this.#target = target;
    this.#rootOf = rootOf;
    this.#fold = fold;
    this.events = new Observable<JobEvent>((subscriber) => {
      const before = this.#waitingNow();
      if (before === undefined) return target.subscribe(subscriber);
      // Subscribed while events wait: they happened before, and are not this subscriber's.
      return target.subscribe({
        next: (event) => {
          if (!before.has(event)) subscriber.next(event);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
  }

  /** Folds the event, then sends it now or after what is being sent and what waits. */
  publish(event: JobEvent): void {
    const sending = this.#sending;
    if (sending.length > 0) {
      // Decided before the fold: a batch's final event lets the store evict the children it
      // held, and a child being sent would no longer be found in its tree.
      const waits = this.#head < this.#waiting.length || this.#inTreeBeingSent(event.jobId);
      this.#fold(event);
      if (waits) this.#waiting.push(event);
      else this.#send(event);
      return;
    }
    this.#fold(event);
    this.#send(event);
    // The outermost send is over: what waited goes out now, in order. One sent from here may
    // make more, which wait their turn behind the rest.
    if (this.#waiting.length > 0) this.#sendWaiting();
  }

  #inTreeBeingSent(jobId: string): boolean {
    const root = this.#rootOf(jobId);
    return this.#sending.some(({ jobId: sent }) => sent === jobId || this.#rootOf(sent) === root);
  }

  /**
   * The job's final event if it is being sent now: a subscription made while it is, from a
   * subscriber's callback, would not get it from the Subject, which sends to those it had.
   */
  finalBeingSent(jobId: string): JobEvent | undefined {
    return this.#sending.find((event) => event.final && event.jobId === jobId);
  }

  #waitingNow(): ReadonlySet<JobEvent> | undefined {
    const waiting = this.#waiting;
    return this.#head < waiting.length ? new Set(waiting.slice(this.#head)) : undefined;
  }

  #send(event: JobEvent): void {
    const sending = this.#sending;
    sending.push(event);
    try {
      this.#target.next(event);
    } finally {
      sending.pop();
    }
  }

  #sendWaiting(): void {
    const waiting = this.#waiting;
    while (this.#head < waiting.length) {
      const next = waiting[this.#head] as JobEvent;
      this.#head += 1;
      this.#send(next);
    }
    waiting.length = 0;
    this.#head = 0;
  }
}
