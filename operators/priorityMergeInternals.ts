import {
  from,
  Observable,
  type ObservableInput,
  type Observer,
  type SchedulerLike,
  type Subscriber,
  type Subscription,
} from 'rxjs';
import { PriorityHeap } from './priorityHeap.js';
import { expectedMessage } from './validate.js';

export interface PriorityMergeSettings<T> {
  readonly concurrency: number;
  readonly priority: (value: T) => number;
  readonly capacity: number;
  readonly onOverflow: ((value: T) => void) | undefined;
  /** Milliseconds of waiting worth one priority level; 0 turns aging off. */
  readonly aging: number;
  readonly scheduler: SchedulerLike;
}

/**
 * The dispatch engine behind `priorityMergeMap`: values that find every slot busy wait in a
 * heap, and the best one is started only when a running inner completes (demand-driven).
 */
export function priorityMergeInternals<T, R>(
  source: Observable<T>,
  subscriber: Subscriber<R>,
  project: (value: T, index: number) => ObservableInput<R>,
  settings: PriorityMergeSettings<T>,
): () => void {
  const { concurrency, priority, capacity, onOverflow, aging, scheduler } = settings;
  const waiting = new PriorityHeap<T>();
  let active = 0;
  let index = 0;
  let sourceComplete = false;
  // Set while the drain loop runs, so an inner that completes synchronously (or a source that
  // emits re-entrantly from inside an inner) joins the loop instead of recursing.
  let draining = false;

  // With linear aging the order of `priority + waited / aging` never changes as time passes,
  // so the key is fixed at push time: no timers and no re-heapify. Time is measured from the
  // subscription: an epoch-ms clock divided by a small `aging` would round priorities away.
  const start = aging > 0 ? scheduler.now() : 0;
  const keyOf = (value: T): number => {
    const level = priority(value);
    // NaN compares false both ways and would break the heap's order for every other value.
    if (typeof level !== 'number' || Number.isNaN(level)) {
      const ErrorClass = typeof level === 'number' ? RangeError : TypeError;
      throw new ErrorClass(expectedMessage('priority(value)', 'a number, not NaN', level));
    }
    return aging > 0 ? level - (scheduler.now() - start) / aging : level;
  };

  const checkComplete = (): void => {
    if (sourceComplete && active === 0 && waiting.size === 0) subscriber.complete();
  };

  const startInner = (value: T): void => {
    active++;
    subscribeChained(from(project(value, index++)), subscriber, {
      next: (innerValue) => subscriber.next(innerValue),
      error: (error: unknown) => subscriber.error(error),
      complete: () => {
        active--;
        drain();
      },
    });
  };

  const drain = (): void => {
    if (draining) return;
    draining = true;
    try {
      while (active < concurrency && waiting.size > 0 && !subscriber.closed) {
        startInner(waiting.pop() as T);
      }
    } catch (error) {
      subscriber.error(error);
    } finally {
      draining = false;
    }
    checkComplete();
  };

  const enqueue = (value: T): void => {
    try {
      if (active < concurrency && waiting.size === 0 && !draining) {
        startInner(value);
        return;
      }
      if (waiting.size >= capacity) {
        onOverflow?.(value);
        return;
      }
      waiting.push(value, keyOf(value));
      drain();
    } catch (error) {
      subscriber.error(error);
    }
  };

  subscribeChained(source, subscriber, {
    next: enqueue,
    error: (error: unknown) => subscriber.error(error),
    complete: () => {
      sourceComplete = true;
      checkComplete();
    },
  });

  // Dropping what waits releases the values (and whatever they reference) at once.
  return () => waiting.clear();
}

/**
 * Subscribes `observer` to `source` through a subscriber that `parent` owns from the start, as
 * RxJS's own operator subscribers are: once `parent` closes, even a synchronous source stops in
 * the middle of its loop, instead of emitting (and starting jobs) into the void. A subscriber
 * that ends removes itself from `parent`, so finished inners are not retained.
 */
function subscribeChained<T>(
  source: Observable<T>,
  parent: Subscription,
  observer: Observer<T>,
): Subscription {
  return new Observable<T>((chained) => {
    parent.add(chained);
    source.subscribe(chained);
  }).subscribe(observer);
}
