import { Observable, type SchedulerLike, type Subscription } from 'rxjs';
import { fromHandler } from '../operators/fromHandler.js';
import { jobTimeout } from '../operators/jobTimeout.js';
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
  started(run: QueuedRun, waitTime: number): JobEvent;
  ended(run: QueuedRun, outcome: AttemptOutcome): JobEvent;
  cancelled(run: QueuedRun, reason: Error, final: boolean, execTime: number): JobEvent;
}

/**
 * One attempt of one run, as the Observable that `priorityMergeMap` runs in a worker slot: it
 * emits `started`, then one outcome event, then completes, which frees the slot. The handler is
 * wrapped by `fromHandler` and `jobTimeout`, so a timeout or a cancel unsubscribes an Observable
 * handler and aborts a promise handler's signal with the reason.
 */
export function runAttempt(run: QueuedRun, hooks: AttemptHooks): Observable<JobEvent> {
  return new Observable<JobEvent>((subscriber) => {
    const { job } = run;
    // Cancelled while it waited: the heap has no delete, so the run is skipped here instead.
    if (run.cancelled) {
      subscriber.complete();
      return;
    }
    const { scheduler } = hooks;
    const startedAt = scheduler.now();
    job.queued.delete(run);
    let abortReason: unknown;
    let lastValue: unknown;
    let handlerSubscription: Subscription | undefined;
    let ended = false;

    const attempt: RunningAttempt = {
      cancel: (reason, final) => {
        if (ended) return;
        ended = true;
        abortReason = reason;
        job.running.delete(attempt);
        handlerSubscription?.unsubscribe();
        subscriber.next(hooks.cancelled(run, reason, final, scheduler.now() - startedAt));
        subscriber.complete();
      },
    };
    const end = (outcome: AttemptOutcome): void => {
      if (ended) return;
      ended = true;
      job.running.delete(attempt);
      subscriber.next(hooks.ended(run, outcome));
      subscriber.complete();
    };

    job.running.add(attempt);
    subscriber.next(hooks.started(run, startedAt - run.queuedAt));

    const handler = job.spec.handler as JobHandler;
    const { payload, timeout } = job.spec;
    const handler$ = fromHandler(
      (signalContext) =>
        handler(payload, new HandlerContext(signalContext, run.attempt, run.run, job.ref)),
      { abortReason: () => abortReason },
    );
    const timed$ =
      timeout === Number.POSITIVE_INFINITY
        ? handler$
        : handler$.pipe(jobTimeout(timeout, scheduler));
    handlerSubscription = timed$.subscribe({
      next: (value) => {
        lastValue = value;
      },
      error: (error: unknown) => {
        // Runs before jobTimeout tears the handler down, so its signal is aborted with this error.
        abortReason = error;
        // Torn down now, before the slot is freed: the next handler must not start while a
        // timed-out one is still subscribed.
        handlerSubscription?.unsubscribe();
        end({ ok: false, error, execTime: scheduler.now() - startedAt });
      },
      complete: () => end({ ok: true, result: lastValue, execTime: scheduler.now() - startedAt }),
    });
    return () => {
      // Torn down from outside (the scheduler stopped): abort a handler that is still running.
      if (!ended) {
        ended = true;
        job.running.delete(attempt);
      }
      handlerSubscription?.unsubscribe();
    };
  });
}
