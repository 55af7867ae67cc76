import { Subscription } from 'rxjs';
import { type BatchChildOutcome, BatchError } from './errors.js';
import type { LiveJob } from './liveJob.js';

export interface BatchHooks {
  /** Queue a child whose turn has come. */
  startChild(child: LiveJob): void;
  /** Every child has settled: the results in input order, or a BatchError. */
  finish(ok: boolean, value: unknown): void;
  /** False while no further child may be queued: the children not fed yet then wait. */
  mayFeed(): boolean;
}

/**
 * Feeds a batch's children to the queue at most `concurrency` at a time: a child is queued when
 * an earlier one settles, and the batch ends once all have, with their results in input order
 * or a `BatchError` listing every outcome. The feed is the batch's `source`: unsubscribing it
 * stops the feed, so no further child is queued and the batch does not finish.
 *
 * This is `mergeMap(settled$, concurrency)` over the children, written as a counter: an
 * Observable and a subscriber per child cost a batch of no-op jobs about 1 µs a child.
 */
export function runBatch(batch: LiveJob, hooks: BatchHooks): void {
  const { children } = batch;
  const { concurrency } = batch.spec;
  const outcomes: BatchChildOutcome[] = new Array(children.length);
  const feed = new BatchFeed(() => feedChildren());
  let nextIndex = 0;
  let inFlight = 0;
  // A child may settle while it is being started (a synchronous handler, a cancelling
  // subscriber): the loop below goes on from there rather than recursing once per child.
  let feeding = false;

  const settled = (index: number, outcome: BatchChildOutcome) => {
    outcomes[index] = outcome;
    inFlight -= 1;
    feedChildren();
  };

  const feedChildren = () => {
    if (feeding || feed.closed) return;
    feeding = true;
    try {
      while (!feed.closed && inFlight < concurrency && nextIndex < children.length) {
        const index = nextIndex;
        const child = children[index] as LiveJob;
        // Cancelled before its turn (cancelJob, or a stop): it must neither run nor hold the
        // batch, even while no child may be fed.
        if (child.ended) {
          nextIndex += 1;
          outcomes[index] = endedOutcome(child);
          continue;
        }
        if (!hooks.mayFeed()) break;
        nextIndex += 1;
        inFlight += 1;
        child.onSettled = (outcome) => settled(index, outcome);
        // Resumed after a restart while queued, running or retrying: it is under way already.
        if (child.status !== 'pending' || child.busy) continue;
        child.runs = 1;
        child.sourceDone = true;
        hooks.startChild(child);
      }
    } finally {
      feeding = false;
    }
    if (feed.closed || inFlight > 0 || nextIndex < children.length) return;
    feed.unsubscribe();
    const failed = outcomes.some((outcome) => outcome.status !== 'completed');
    if (failed) hooks.finish(false, new BatchError(batch.id, outcomes));
    else
      hooks.finish(
        true,
        outcomes.map((outcome) => outcome.result),
      );
  };

  // The batch's source before the first child is fed: a subscriber that cancels the batch as a
  // child is queued must find the feed to stop.
  batch.source = feed;
  feedChildren();
}

/**
 * A batch's feed, as its `source`. `resume` runs the feed over the children that ended while
 * it could feed none (a stop winding the batch down), so the batch settles.
 */
export class BatchFeed extends Subscription {
  readonly resume: () => void;

  constructor(resume: () => void) {
    super();
    this.resume = resume;
  }
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
