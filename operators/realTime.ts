import { asyncScheduler, type SchedulerLike } from 'rxjs';
// RxJS tells whether its timers are handed over only through this provider, stable across 7.x.
import { intervalProvider } from 'rxjs/internal/scheduler/intervalProvider';

/**
 * True when `scheduler` is `asyncScheduler` on the host's timers. Inside `testScheduler.run()`,
 * RxJS hands asyncScheduler's timers to the TestScheduler; the timers this package shares
 * across callers in real time would then reorder actions due in the same frame, and a run that
 * throws would leave them armed in a clock that is gone, for every later caller to wait on.
 * Read at each call: a run begins and ends between any two.
 */
export function isRealTime(scheduler: SchedulerLike): boolean {
  return scheduler === asyncScheduler && intervalProvider.delegate === undefined;
}
