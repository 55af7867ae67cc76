import { from, mergeMap, Observable, type Subscription } from 'rxjs';
import { type BatchChildOutcome, BatchError } from './errors.js';
import type { LiveJob } from './liveJob.js';

export interface BatchHooks {
  /** Queue a child whose turn has come (or cancel it, when the scheduler is stopping). */
  startChild(child: LiveJob): void;
  /** Every child has settled: the results in input order, or a BatchError. */
  finish(ok: boolean, value: unknown): void;
}

/**
 * Feeds a batch's children to the queue with `mergeMap` at the batch's `concurrency`: a child
 * is queued when an earlier one settles, and the batch ends once all have, with their results
 * in input order or a `BatchError` listing every outcome.
 */
export function runBatch(batch: LiveJob, hooks: BatchHooks): Subscription {
  const outcomes: BatchChildOutcome[] = [];
  const childDone$ = (child: LiveJob, index: number) =>
    new Observable<never>((subscriber) => {
      // Cancelled before its turn (cancelJob, or a stop): it must neither run nor hold the batch.
      if (child.ended) {
        outcomes[index] = endedOutcome(child);
        subscriber.complete();
        return;
      }
      child.onSettled = (outcome) => {
        outcomes[index] = outcome;
        subscriber.complete();
      };
      // Resumed after a restart while queued, running or retrying: it is under way already.
      if (child.status !== 'pending' || child.busy) return;
      child.runs = 1;
      child.sourceDone = true;
      hooks.startChild(child);
    });
  return from(batch.children.map((child, index) => [child, index] as const))
    .pipe(mergeMap(([child, index]) => childDone$(child, index), batch.spec.concurrency))
    .subscribe({
      complete: () => {
        const failed = outcomes.some((outcome) => outcome.status !== 'completed');
        if (failed) hooks.finish(false, new BatchError(batch.id, outcomes));
        else
          hooks.finish(
            true,
            outcomes.map((outcome) => outcome.result),
          );
      },
    });
}

/** How a child that ended before its batch asked ended: cancelled before its turn, or settled. */
function endedOutcome(child: LiveJob): BatchChildOutcome {
  const settled = child.outcome;
  if (settled === undefined)
    return { id: child.id, status: 'cancelled', error: child.ending?.value };
  const status = settled.ok ? 'completed' : child.status === 'cancelled' ? 'cancelled' : 'failed';
  return {
    id: child.id,
    status,
    ...(settled.ok ? { result: settled.value } : { error: settled.value }),
  };
}
