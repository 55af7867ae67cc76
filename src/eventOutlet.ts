import type { Observer } from 'rxjs';
import type { JobEvent } from './types.js';

/**
 * Hands events to the Subject behind `events$`, keeping each job's events in order for every
 * subscriber. A subscriber that acts on an event (cancels its job on `started`) makes a new one
 * while the Subject is still handing out the first; sent at once, it would reach the later
 * subscribers before the event that caused it, and they would see the job's final `cancelled`
 * before its `started`. Such an event waits until the outermost event being sent has reached
 * everyone, and so does every event after it, so that no effect overtakes its cause.
 *
 * Events about other jobs still go out at once, nested, as a Subject sends them: a subscriber
 * that cancels a job on its `submitted` event, when another subscriber submitted it, must hear
 * of it before the job begins.
 */
export class EventOutlet {
  readonly #target: Observer<JobEvent>;
  /** The jobs whose events are being sent, outermost first; empty when none is. */
  readonly #sending: string[] = [];
  readonly #waiting: JobEvent[] = [];
  /** The next waiting event to send. */
  #head = 0;

  constructor(target: Observer<JobEvent>) {
    this.#target = target;
  }

  publish(event: JobEvent): void {
    const sending = this.#sending;
    if (sending.length > 0) {
      if (this.#head < this.#waiting.length || sending.includes(event.jobId)) {
        this.#waiting.push(event);
      } else {
        this.#send(event);
      }
      return;
    }
    this.#send(event);
    // The outermost send is over: what waited goes out now, in order. One sent from here may
    // make more, which wait their turn behind the rest.
    if (this.#waiting.length > 0) this.#sendWaiting();
  }

  #send(event: JobEvent): void {
    const sending = this.#sending;
    sending.push(event.jobId);
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
