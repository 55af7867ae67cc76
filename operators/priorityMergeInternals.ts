import {
  from,
  type Observable,
  type ObservableInput,
  type Observer,
  type SchedulerLike,
  type Subscriber,
  Subscription,
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

/** Where a {@link ChainedSubscriber} sends what it receives. */
interface Sink<T> {
  next(value: T): void;
  error(error: unknown): void;
  complete(): void;
}

/**
 * A subscriber that `parent` owns before the source is subscribed, as RxJS's own operator
 * subscribers are: once `parent` closes, even a synchronous source stops in the middle of its
 * loop instead of emitting (and starting jobs) into the void. Being a Subscription with `next`,
 * `error` and `complete`, RxJS subscribes it as it is, without a SafeSubscriber around it, so an
 * inner costs one object. It removes itself from `parent` when it ends, so finished inners are
 * not retained. An error reaches its sink before the inner is torn down, as a Subscriber's
 * does; a completion only after, since the sink starts the next inner in the freed slot.
 */
class ChainedSubscriber<T> extends Subscription implements Observer<T> {
  readonly #sink: Sink<T>;
  #stopped = false;

  constructor(parent: Subscription, sink: Sink<T>) {
    super();
    this.#sink = sink;
    parent.add(this);
  }

  next(value: T): void {
    if (!this.#stopped && !this.closed) this.#sink.next(value);
  }

  error(error: unknown): void {
    if (this.#stopped || this.closed) return;
    this.#stopped = true;
    try {
      this.#sink.error(error);
    } finally {
      this.unsubscribe();
    }
  }

  complete(): void {
    if (this.#stopped || this.closed) return;
    this.#stopped = true;
    // Torn down before the sink hears, as mergeMap's inner is: the sink starts the next inner
    // at once, and two must not hold their resources together with one slot between them. A
    // teardown that throws must still free the slot.
    try {
      this.unsubscribe();
    } finally {
      this.#sink.complete();
    }
  }
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
  const engine = new PriorityMergeEngine(subscriber, project, settings);
  source.subscribe(
    new ChainedSubscriber<T>(subscriber, {
      next: (value) => engine.enqueue(value),
      error: (error) => subscriber.error(error),
      complete: () => engine.sourceComplete(),
    }),
  );
  // Dropping what waits releases the values (and whatever they reference) at once.
  return () => engine.clear();
}

class PriorityMergeEngine<T, R> implements Sink<R> {
  readonly #subscriber: Subscriber<R>;
  readonly #project: (value: T, index: number) => ObservableInput<R>;
  readonly #settings: PriorityMergeSettings<T>;
  readonly #waiting = new PriorityHeap<T>();
  /** Where aging is measured from: see `#keyOf`. */
  readonly #start: number;
  #active = 0;
  #index = 0;
  #sourceComplete = false;
  // Set while the drain loop runs, so an inner that completes synchronously (or a source that
  // emits re-entrantly from inside an inner) joins the loop instead of recursing.
  #draining = false;
  // Made once and shared by every Promise inner, so one costs no more than its `then`.
  readonly #onPromiseValue = (value: R): void => {
    // Like `from(promise)`: a value that settles after the unsubscribe goes nowhere.
    if (this.#subscriber.closed) return;
    this.#subscriber.next(value);
    this.complete();
  };
  readonly #onPromiseError = (error: unknown): void => this.#subscriber.error(error);

  constructor(
    subscriber: Subscriber<R>,
    project: (value: T, index: number) => ObservableInput<R>,
    settings: PriorityMergeSettings<T>,
  ) {
    this.#subscriber = subscriber;
    this.#project = project;
    this.#settings = settings;
    // Time is measured from the subscription: an epoch-ms clock divided by a small `aging`
    // would round priorities away.
    this.#start = settings.aging > 0 ? settings.scheduler.now() : 0;
  }

  /** A value from the source: it starts at once if a slot is free and nothing waits. */
  enqueue(value: T): void {
    const { concurrency, capacity, onOverflow } = this.#settings;
    try {
      const free = concurrency - this.#active;
      if (free > 0 && this.#waiting.size === 0 && !this.#draining) {
        this.#startInner(value);
        return;
      }
      // Inside the drain a slot may be free while values wait: those the drain is about to
      // start do not count against `capacity`, as they would not had this one come after it.
      if (this.#waiting.size - Math.max(free, 0) >= capacity) {
        onOverflow?.(value);
        return;
      }
      this.#waiting.push(value, this.#keyOf(value));
      this.#drain();
    } catch (error) {
      this.#subscriber.error(error);
    }
  }

  sourceComplete(): void {
    this.#sourceComplete = true;
    this.#checkComplete();
  }

  clear(): void {
    this.#waiting.clear();
  }

  // The inner side, shared by every Observable inner through its ChainedSubscriber.
  next(value: R): void {
    this.#subscriber.next(value);
  }

  error(error: unknown): void {
    this.#subscriber.error(error);
  }

  complete(): void {
    this.#active -= 1;
    this.#drain();
  }

  /**
   * With linear aging the order of `priority + waited / aging` never changes as time passes, so
   * the key is fixed at push time: no timers and no re-heapify.
   */
  #keyOf(value: T): number {
    const { priority, aging, scheduler } = this.#settings;
    const level = priority(value);
    // NaN compares false both ways and would break the heap's order for every other value.
    if (typeof level !== 'number' || Number.isNaN(level)) {
      const ErrorClass = typeof level === 'number' ? RangeError : TypeError;
      throw new ErrorClass(expectedMessage('priority(value)', 'a number, not NaN', level));
    }
    if (aging === 0) return level;
    // In ms rather than levels (`level - waited / aging`, scaled by `aging`): whole priorities,
    // aging and times then compare exactly, and a tie stays a tie, broken FIFO.
    const scaled = level * aging;
    // A finite level past about 1e308 / aging would overflow and tie with every other such one.
    if (Number.isFinite(level) && !Number.isFinite(scaled)) {
      throw new RangeError(
        expectedMessage(
          'priority(value)',
          `a number whose product with aging (${aging}) is finite`,
          level,
        ),
      );
    }
    return scaled - (scheduler.now() - this.#start);
  }

  #startInner(value: T): void {
    this.#active += 1;
    const input = this.#project(value, this.#index++);
    // A native Promise settles once and cannot be cancelled, so it needs no subscriber at all.
    if (input instanceof Promise) {
      input.then(this.#onPromiseValue, this.#onPromiseError);
      return;
    }
    from(input).subscribe(new ChainedSubscriber<R>(this.#subscriber, this));
  }

  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    const waiting = this.#waiting;
    const { concurrency } = this.#settings;
    try {
      while (this.#active < concurrency && waiting.size > 0 && !this.#subscriber.closed) {
        this.#startInner(waiting.pop() as T);
      }
    } catch (error) {
      this.#subscriber.error(error);
    } finally {
      this.#draining = false;
    }
    this.#checkComplete();
  }

  #checkComplete(): void {
    if (this.#sourceComplete && this.#active === 0 && this.#waiting.size === 0) {
      this.#subscriber.complete();
    }
  }
}
