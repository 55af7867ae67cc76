import {
  asyncScheduler,
  Observable,
  type ObservableInput,
  type OperatorFunction,
  type SchedulerLike,
} from 'rxjs';
import { priorityMergeInternals } from './priorityMergeInternals.js';
import {
  assertFiniteAtLeast,
  assertFunction,
  assertInteger,
  assertOptions,
  assertScheduler,
  expectedMessage,
} from './validate.js';

/**
 * Options for {@link priorityMergeMap}. `capacity` and `onOverflow` come together: a bounded
 * queue must say what happens to a value it turns away.
 */
export type PriorityMergeMapOptions<T> = PriorityMergeSettings<T> & OverflowOptions<T>;

interface PriorityMergeSettings<T> {
  /** How many inners may run at once: a whole number from 1, or `Infinity`. */
  readonly concurrency: number;
  /** The priority of a value; the highest waiting value starts first, FIFO among equals. */
  readonly priority: (value: T) => number;
  /** Anti-starvation: every `aging` ms a value has waited counts as one priority level. */
  readonly aging?: number;
  /** The clock that `aging` reads. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

type OverflowOptions<T> =
  | {
      /** How many values may wait for a slot. Default `Infinity`. */
      readonly capacity?: undefined;
      /** Receives each value that arrives while `capacity` values wait. */
      readonly onOverflow?: (value: T) => void;
    }
  | {
      /** How many values may wait for a slot. Default `Infinity`. */
      readonly capacity: number;
      /** Receives each value that arrives while `capacity` values wait; required with `capacity`. */
      readonly onOverflow: (value: T) => void;
    };

const PRIORITY_MERGE_OPTIONS: ReadonlySet<string> = new Set<keyof PriorityMergeMapOptions<never>>([
  'concurrency',
  'priority',
  'capacity',
  'onOverflow',
  'aging',
  'scheduler',
]);

/**
 * Like `mergeMap(project, concurrency)`, but values that find every slot busy wait in a binary
 * heap and the highest `priority(value)` starts first, FIFO among equals. Push and pop are
 * O(log n), so a backlog of hundreds of thousands of values costs no more per value than a
 * short one. Unsubscribing tears down every running inner and drops what waits.
 *
 * @example
 * ```ts
 * import { from } from 'rxjs';
 * import { priorityMergeMap } from 'rxjobs/operators';
 *
 * from(requests).pipe(
 *   priorityMergeMap((request) => fetchJson(request.url), {
 *     concurrency: 4,
 *     priority: (request) => request.priority,
 *     capacity: 1000,
 *     onOverflow: (request) => console.warn('shed', request.url),
 *   }),
 * ).subscribe(console.log);
 * ```
 */
export function priorityMergeMap<T, R>(
  project: (value: T, index: number) => ObservableInput<R>,
  options: PriorityMergeMapOptions<T>,
): OperatorFunction<T, R> {
  assertFunction('project', project);
  assertOptions(options, PRIORITY_MERGE_OPTIONS);
  const {
    concurrency,
    priority,
    capacity = Number.POSITIVE_INFINITY,
    onOverflow,
    aging = 0,
    scheduler = asyncScheduler,
  } = options;
  assertInteger('concurrency', concurrency, 1, true);
  assertFunction('priority', priority);
  assertInteger('capacity', capacity, 0, true);
  if (onOverflow !== undefined) assertFunction('onOverflow', onOverflow);
  if (capacity !== Number.POSITIVE_INFINITY && onOverflow === undefined) {
    // A value turned away must go somewhere: never drop one silently.
    throw new TypeError(
      expectedMessage('onOverflow', 'a function when `capacity` is set', onOverflow),
    );
  }
  assertFiniteAtLeast('aging', aging, 0);
  assertScheduler('scheduler', scheduler);
  const settings = { concurrency, priority, capacity, onOverflow, aging, scheduler };
  return (source) =>
    new Observable<R>((subscriber) =>
      priorityMergeInternals(source, subscriber, project, settings),
    );
}
