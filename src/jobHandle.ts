import { concat, defer, filter, from, type Observable, of, takeWhile } from 'rxjs';
import type { EventOutlet } from './eventOutlet.js';
import type { LiveJob } from './liveJob.js';
import type { JobEvent, JobHandle } from './types.js';

/**
 * What `submitJob` returns. `result` and `events$` are getters, made on first read: most
 * handles are dropped unread, and an object literal with an accessor, a `defer` and its closures
 * cost each job more than the rest of its submission.
 */
export class LiveJobHandle implements JobHandle {
  readonly id: string;
  /** An own function, so `const { cancel } = handle` works as it does for a literal. */
  readonly cancel: () => boolean;
  readonly #job: LiveJob;
  readonly #outlet: EventOutlet;
  readonly #duringSubmit: readonly JobEvent[];
  #events$: Observable<JobEvent> | undefined;

  constructor(
    job: LiveJob,
    outlet: EventOutlet,
    duringSubmit: readonly JobEvent[],
    cancel: () => boolean,
  ) {
    this.id = job.id;
    this.cancel = cancel;
    this.#job = job;
    this.#outlet = outlet;
    this.#duringSubmit = duringSubmit;
  }

  get result(): Promise<unknown> {
    return this.#job.result;
  }

  /** Replays the events of the submission, then follows the job live to its terminal event. */
  get events$(): Observable<JobEvent> {
    if (this.#events$ === undefined) {
      const job = this.#job;
      const outlet = this.#outlet;
      const duringSubmit = this.#duringSubmit;
      const endedDuringSubmit = duringSubmit.some((event) => event.final);
      // Submitted from inside a subscriber, the job's first events may still wait to be sent
      // (see EventOutlet) when they are replayed: the live part skips what was replayed.
      const replayed = new Set(duringSubmit);
      this.#events$ = defer(() => {
        if (endedDuringSubmit || job.settled) return from(duringSubmit);
        // Subscribed from a callback of the job's own final event: the Subject will not send it
        // to this subscription, and the job settles only once it is out.
        const final = outlet.finalBeingSent(job.id);
        if (final !== undefined) return concat(from(duringSubmit), of(final));
        return concat(
          from(duringSubmit),
          outlet.events.pipe(
            filter((event) => event.jobId === job.id && !replayed.has(event)),
            takeWhile((event) => !event.final, true),
          ),
        );
      });
    }
    return this.#events$;
  }
}
