import type { Observable, SchedulerLike } from 'rxjs';
import { type Tick, timerGuard } from './timerGuard.js';

/**
 * One tick at `time` (epoch ms), or at once for a time already past. Unlike `timer(date)`, a
 * time more than 2^31-1 ms away is reached by capped sleeps instead of firing after 1 ms.
 */
export function at(time: number, scheduler: SchedulerLike): Observable<Tick> {
  return timerGuard((now) => ({ first: Math.max(time, now), after: () => undefined }), {
    scheduler,
    maxRuns: 1,
    endAt: Number.POSITIVE_INFINITY,
  });
}
