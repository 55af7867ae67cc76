import {
  isObservable,
  Observable,
  type SchedulerLike,
  type Subscriber,
  type Subscription,
  type Unsubscribable,
} from 'rxjs';
import { armTimeout } from '../operators/deadlineQueue.js';
import { followOutput, isThenable } from '../operators/fromHandler.js';
import { JobTimeoutError, jobTimeout } from '../operators/jobTimeout.js';
import { LazySignal } from '../operators/lazySignal.js';
import { JobInterruptedError } from './errors.js';
import { HandlerContext } from './handlerContext.js';
import type { QueuedRun, RunningAttempt } from './liveJob.js';
import type { JobEvent, JobHandler } from './types.js';

/** How an attempt ended, before the scheduler decides between retrying, failed and completed. */
export type AttemptOutcome =
  | { readonly ok: true; readonly result: unknown; readonly execTime: number }
  | { readonly ok: false; readonly error: unknown; readonly execTime: number };

/** What an attempt asks of the scheduler: each returns the event to emit for the transition. */
export interface AttemptHooks {
  readonly scheduler: SchedulerLike;
  /** The attempt got its worker at `startedAt`, read once for the event and its wait time. */
  started(run: QueuedRun, startedAt: number): JobEvent;
  ended(run: QueuedRun, outcome: AttemptOutcome): JobEvent;
  cancelled(run: QueuedRun, reason: Error, final: boolean, execTime: number): JobEvent;
}

/**
 * One attempt of one run, as the Observable that `priorityMergeMap` runs in a worker slot: it
 * emits `started`, then one outcome event, then completes, which frees the slot. The handler runs
 * as `fromHandler` would run it, under a `jobTimeout`, so a timeout or a cancel unsubscribes an
 * Observable handler and aborts a promise handler's signal with the reason.
 */
export function runAttempt(run: QueuedRun, hooks: AttemptHooks): Observable<JobEvent> {
  return new Observable<JobEvent>((subscriber) => new Attempt(run, hooks, subscriber).start());
}

/**
 * The state of one attempt. A handler that returns an Observable is followed through
 * `fromHandler`'s wiring and `jobTimeout`; one that returns a Promise or a value, the usual
 * case, is followed directly, with the timeout from `armTimeout`: the same semantics without
 * the three Observables and their subscribers per attempt.
 */
class Attempt implements RunningAttempt, Unsubscribable {
  readonly #run: QueuedRun;
  readonly #hooks: AttemptHooks;
  readonly #subscriber: Subscriber<JobEvent>;
  #startedAt = 0;
  #ended = false;
  #abortReason: unknown;
  #signal: LazySignal | undefined;
  /** The output has settled (or timed out): its signal must not be aborted any more. */
  #settled = false;
  /** A Promise handler's timeout. */
  #deadline: Unsubscribable | undefined;
  /** An Observable handler, with its timeout. */
  #handlerSubscription: Subscription | undefined;
  #observable = false;

  constructor(run: QueuedRun, hooks: AttemptHooks, subscriber: Subscriber<JobEvent>) {
    this.#run = run;
    this.#hooks = hooks;
    this.#subscriber = subscriber;
  }

  start(): Unsubscribable | undefined {
    const run = this.#run;
    const { job } = run;
    // Cancelled while it waited: the heap has no delete, so the run is skipped here instead.
    if (run.cancelled) {
      this.#subscriber.complete();
      return undefined;
    }
    const { scheduler } = this.#hooks;
    this.#startedAt = scheduler.now();
    job.deleteQueued(run);
    job.addRunning(this);
    this.#subscriber.next(this.#hooks.started(run, this.#startedAt));
    // A subscriber of `started` may have cancelled the job: its handler must not run.
    if (this.#ended) return undefined;

    const handler = job.spec.handler as JobHandler;
    const { payload, timeout } = job.spec;
    const signal = new LazySignal();
    this.#signal = signal;
    let output: unknown;
    let observable: boolean;
    let promise: Promise<unknown> | undefined;
    try {
      output = handler(payload, new HandlerContext(signal, run.attempt, run.run, job.ref));
      // Telling what came back reads its `lift`, its `then` and a Promise's `constructor`, any of
      // which can throw (a getter, a revoked Proxy): that fails the attempt as a throw would,
      // not the scheduler.
      observable = isObservable(output);
      if (!observable && isThenable(output)) promise = Promise.resolve(output);
    } catch (error) {
      this.#settled = true;
      this.#failed(error);
      return undefined;
    }
    if (observable) {
      this.#follow(output as Observable<unknown>, signal, timeout);
    } else if (promise !== undefined) {
      if (timeout !== Number.POSITIVE_INFINITY) {
        this.#deadline = armTimeout(scheduler, timeout, () => this.#timedOut(timeout));
      }
      // Both callbacks are attached at once, so a rejection after a timeout is still handled.
      // Promise.resolve hands back a native Promise as it is, own `then` and all: that call can
      // throw too, after the deadline is armed, which #rejected disarms.
      try {
        promise.then(
          (value) => this.#fulfilled(value),
          (error: unknown) => this.#rejected(error),
        );
      } catch (error) {
        this.#rejected(error);
      }
    } else {
      this.#settled = true;
      this.#end({ ok: true, result: output, execTime: scheduler.now() - this.#startedAt });
    }
    return this;
  }

  cancel(reason: Error, final: boolean): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#abortReason = reason;
    this.#run.job.deleteRunning(this);
    this.#release();
    const execTime = this.#hooks.scheduler.now() - this.#startedAt;
    this.#subscriber.next(this.#hooks.cancelled(this.#run, reason, final, execTime));
    this.#subscriber.complete();
  }

  interrupt(): void {
    if (this.#ended) return;
    const reason = new JobInterruptedError(this.#run.job.id, this.#run.attempt);
    this.#abortReason = reason;
    this.#release();
    this.#failed(reason);
  }

  /** Torn down from outside (the scheduler stopped), or after the attempt ended. */
  unsubscribe(): void {
    if (!this.#ended) {
      this.#ended = true;
      this.#run.job.deleteRunning(this);
    }
    this.#release();
  }

  /** Stops the handler: unsubscribes an Observable, aborts the signal of an unsettled Promise. */
  #release(): void {
    if (this.#observable) {
      this.#handlerSubscription?.unsubscribe();
      return;
    }
    this.#deadline?.unsubscribe();
    this.#deadline = undefined;
    if (this.#settled) return;
    this.#settled = true;
    this.#signal?.abort(this.#abortReason);
  }

  #follow(output: Observable<unknown>, signal: LazySignal, timeout: number): void {
    const handler$ = new Observable<unknown>((subscriber) =>
      followOutput(output, signal, subscriber, () => this.#abortReason),
    );
    const timed$ =
      timeout === Number.POSITIVE_INFINITY
        ? handler$
        : handler$.pipe(jobTimeout(timeout, this.#hooks.scheduler));
    let lastValue: unknown;
    this.#observable = true;
    const subscription = timed$.subscribe({
      next: (value) => {
        lastValue = value;
      },
      error: (error: unknown) => {
        // Before the handler is torn down, so its signal is aborted with this error.
        this.#abortReason = error;
        // Torn down now, before the slot is freed: the next handler must not start while a
        // timed-out one is still subscribed.
        this.#handlerSubscription?.unsubscribe();
        this.#failed(error);
      },
      complete: () =>
        this.#end({
          ok: true,
          result: lastValue,
          execTime: this.#hooks.scheduler.now() - this.#startedAt,
        }),
    });
    this.#handlerSubscription = subscription;
    // Cancelled while it was being subscribed: stop it now that there is a handle on it.
    if (this.#ended) subscription.unsubscribe();
  }

  #fulfilled(value: unknown): void {
    if (this.#ended) return;
    this.#settled = true;
    this.#deadline?.unsubscribe();
    this.#deadline = undefined;
    this.#end({ ok: true, result: value, execTime: this.#hooks.scheduler.now() - this.#startedAt });
  }

  #rejected(error: unknown): void {
    if (this.#ended) return;
    this.#settled = true;
    this.#deadline?.unsubscribe();
    this.#deadline = undefined;
    this.#failed(error);
  }

  #timedOut(ms: number): void {
    this.#deadline = undefined;
    if (this.#ended) return;
    const error = new JobTimeoutError(ms);
    // The signal is aborted with the timeout before the slot is freed, as jobTimeout does it.
    this.#abortReason = error;
    this.#release();
    this.#failed(error);
  }

  #failed(error: unknown): void {
    this.#abortReason = error;
    this.#end({ ok: false, error, execTime: this.#hooks.scheduler.now() - this.#startedAt });
  }

  #end(outcome: AttemptOutcome): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#run.job.deleteRunning(this);
    this.#subscriber.next(this.#hooks.ended(this.#run, outcome));
    this.#subscriber.complete();
  }
}
