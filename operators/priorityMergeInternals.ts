import {
  from,
  type Observable,
  type ObservableInput,
  type SchedulerLike,
  type Subscriber,
  type Subscription,
} from 'rxjs';
import { PriorityHeap } from './priorityHeap.js';

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
  // so the key is fixed at push time: no timers and no re-heapify.
  const keyOf =
    aging > 0
      ? (value: T) => priority(value) - scheduler.now() / aging
      : (value: T) => priority(value);

  const checkComplete = (): void => {
    if (sourceComplete && active === 0 && waiting.size === 0) subscriber.complete();
  };

  const startInner = (value: T): void => {
    active++;
    let innerSubscription: Subscription | undefined;
    const innerSource = from(project(value, index++));
    innerSubscription = innerSource.subscribe({
      next: (innerValue) => subscriber.next(innerValue),
      error: (error: unknown) => subscriber.error(error),
      complete: () => {
        // Undefined here means the inner completed synchronously and was never added.
        if (innerSubscription !== undefined) subscriber.remove(innerSubscription);
        active--;
        drain();
      },
    });
    if (!innerSubscription.closed) subscriber.add(innerSubscription);
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

  const sourceSubscription = source.subscribe({
    next: enqueue,
    error: (error: unknown) => subscriber.error(error),
    complete: () => {
      sourceComplete = true;
      checkComplete();
    },
  });

  return () => {
    sourceSubscription.unsubscribe();
    // Dropping what waits releases the values (and whatever they reference) at once.
    waiting.clear();
  };
}
