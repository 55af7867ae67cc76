import { concat, defer, EMPTY, filter, from, type Observable, takeWhile } from 'rxjs';
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
  readonly #events: Observable<JobEvent>;
  readonly #duringSubmit: readonly JobEvent[];
  #events$: Observable<JobEvent> | undefined;

  constructor(
    job: LiveJob,
    events: Observable<JobEvent>,
    duringSubmit: readonly JobEvent[],
    cancel: () => boolean,
  ) {
    this.id = job.id;
    this.cancel = cancel;
    this.#job = job;
    this.#events = events;
    this.#duringSubmit = duringSubmit;
  }

  get result(): Promise<unknown> {
    return this.#job.result;
  }

  /** Replays the events of the submission, then follows the job live to its terminal event. */
  get events$(): Observable<JobEvent> {
    if (this.#events$ === undefined) {
      const job = this.#job;
      const events = this.#events;
      const duringSubmit = this.#duringSubmit;
      const endedDuringSubmit = duringSubmit.some((event) => event.final);
      // Submitted from inside a subscriber, the job's first events may still wait to be sent
      // (see EventOutlet) when they are replayed: the live part skips what was replayed.
      const replayed = new Set(duringSubmit);
      this.#events$ = defer(() =>
        concat(
          from(duringSubmit),
          endedDuringSubmit || job.settled
            ? EMPTY
            : events.pipe(
                filter((event) => event.jobId === job.id && !replayed.has(event)),
                takeWhile((event) => !event.final, true),
              ),
        ),
      );
    }
    return this.#events$;
  }
}
