import type { SchedulerLike, Subscription, Unsubscribable } from 'rxjs';
import { isRealTime } from './realTime.js';

/** A pending timeout; `unsubscribe()` cancels it, so it can be added to a Subscription. */
export interface Deadline extends Unsubscribable {
  /** Scheduler time at which it expires. */
  readonly due: number;
}

const PENDING = 0;
const CANCELLED = 1;
const EXPIRED = 2;

class Entry implements Deadline {
  readonly due: number;
  readonly sequence: number;
  readonly #queue: DeadlineQueue;
  readonly #lane: Lane;
  readonly onExpire: () => void;
  state: typeof PENDING | typeof CANCELLED | typeof EXPIRED = PENDING;

  constructor(
    queue: DeadlineQueue,
    lane: Lane,
    due: number,
    sequence: number,
    onExpire: () => void,
  ) {
    this.#queue = queue;
    this.#lane = lane;
    this.due = due;
    this.sequence = sequence;
    this.onExpire = onExpire;
  }

  unsubscribe(): void {
    if (this.state !== PENDING) return;
    this.state = CANCELLED;
    this.#queue.cancelled(this.#lane);
  }
}

/** The deadlines of one timeout length: added in time order, so already sorted by `due`. */
class Lane {
  entries: Entry[] = [];
  head = 0;

  get first(): Entry | undefined {
    return this.entries[this.head];
  }

  shift(): void {
    this.entries[this.head] = undefined as unknown as Entry;
    this.head += 1;
    if (this.head === this.entries.length) {
      this.entries = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.entries.length) {
      this.entries.splice(0, this.head);
      this.head = 0;
    }
  }
}

/** Cancelled entries are swept out once there are this many and more than are pending. */
const SWEEP_AFTER = 1024;

/**
 * Many timeouts on one scheduler action. A job queue arms a timeout per attempt and cancels
 * almost all of them within microseconds; a timer each (an AsyncAction and a setInterval)
 * costs more than the rest of a short job. Here a timeout is an entry in a FIFO per length (time
 * only grows, so each FIFO is sorted), and one action is armed for the earliest one. A
 * cancelled entry is dropped when it reaches the front, or in a sweep; when none is pending
 * the action is cancelled too, so an idle queue holds no timer. Expiry is never early: an entry
 * fires at the first wake at or after `now() + ms`, and entries due together fire in the order
 * they were added.
 *
 * It is for real time only. With a virtual clock, where two timers due in the same frame fire
 * in the order they were scheduled, a shared action scheduled earlier could fire a timeout
 * before a source timer due in the same frame: {@link armTimeout} keeps one action per timeout
 * there.
 */
export class DeadlineQueue {
  readonly #scheduler: SchedulerLike;
  readonly #lanes = new Map<number, Lane>();
  #pending = 0;
  /** Cancelled entries still in a lane. */
  #stale = 0;
  #sequence = 0;
  #timer: Subscription | undefined;
  #timerDue = Number.POSITIVE_INFINITY;
  #waking = false;

  constructor(scheduler: SchedulerLike) {
    this.#scheduler = scheduler;
  }

  /** Pending deadlines, for tests and diagnostics. */
  get size(): number {
    return this.#pending;
  }

  add(ms: number, onExpire: () => void): Deadline {
    const due = this.#scheduler.now() + ms;
    let lane = this.#lanes.get(ms);
    if (lane === undefined) {
      lane = new Lane();
      this.#lanes.set(ms, lane);
    }
    const entry = new Entry(this, lane, due, this.#sequence++, onExpire);
    lane.entries.push(entry);
    this.#pending += 1;
    if (this.#waking) return entry;
    // A timer that is gone (never armed, reset, or dropped by its scheduler) is re-armed for
    // whatever is due first.
    if (this.#timer === undefined || this.#timer.closed)
      this.#arm(this.#earliest()?.first?.due ?? due);
    else if (due < this.#timerDue) this.#arm(due);
    return entry;
  }

  /** Called by an entry of `lane` that was just cancelled. */
  cancelled(lane: Lane): void {
    this.#pending -= 1;
    this.#stale += 1;
    if (this.#pending === 0) {
      this.#reset();
      return;
    }
    // Only this lane's front can have changed: no iterator over every lane per cancel.
    this.#trim(lane);
    if (this.#stale > SWEEP_AFTER && this.#stale > this.#pending) this.#sweep();
  }

  #arm(due: number): void {
    this.#timer?.unsubscribe();
    this.#timerDue = due;
    const delay = Math.max(0, Math.ceil(due - this.#scheduler.now()));
    this.#timer = this.#scheduler.schedule(() => this.#wake(), delay);
  }

  #wake(): void {
    this.#timer = undefined;
    this.#timerDue = Number.POSITIVE_INFINITY;
    this.#waking = true;
    // One callback that throws must not keep the others from expiring, nor the queue from
    // re-arming; the first error is rethrown afterwards, as a throwing timer's would be.
    let failure: { error: unknown } | undefined;
    const now = this.#scheduler.now();
    for (let lane = this.#earliest(); lane?.first !== undefined; lane = this.#earliest()) {
      const entry = lane.first;
      if (entry.due > now) break;
      lane.shift();
      entry.state = EXPIRED;
      this.#pending -= 1;
      try {
        entry.onExpire();
      } catch (error) {
        failure ??= { error };
      }
    }
    this.#waking = false;
    const next = this.#earliest()?.first;
    if (next !== undefined) this.#arm(next.due);
    else if (this.#pending === 0) this.#reset();
    if (failure !== undefined) throw failure.error;
  }

  /** The lane whose first pending entry is due soonest (the oldest among equals). */
  #earliest(): Lane | undefined {
    let best: Lane | undefined;
    for (const lane of this.#lanes.values()) {
      this.#trim(lane);
      const first = lane.first;
      if (first === undefined) continue;
      const bestFirst = best?.first;
      if (
        bestFirst === undefined ||
        first.due < bestFirst.due ||
        (first.due === bestFirst.due && first.sequence < bestFirst.sequence)
      ) {
        best = lane;
      }
    }
    return best;
  }

  /** Drops cancelled entries from the front of a lane. */
  #trim(lane: Lane): void {
    for (
      let first = lane.first;
      first !== undefined && first.state !== PENDING;
      first = lane.first
    ) {
      lane.shift();
      this.#stale -= 1;
    }
  }

  #sweep(): void {
    for (const lane of this.#lanes.values()) {
      lane.entries = lane.entries.slice(lane.head).filter((entry) => entry.state === PENDING);
      lane.head = 0;
    }
    this.#stale = 0;
  }

  /** Nothing is pending: forget every lane and cancel the action. */
  #reset(): void {
    this.#lanes.clear();
    this.#stale = 0;
    this.#timer?.unsubscribe();
    this.#timer = undefined;
    this.#timerDue = Number.POSITIVE_INFINITY;
  }
}

const shared = new WeakMap<SchedulerLike, DeadlineQueue>();

/**
 * Calls `onExpire` once `ms` of scheduler time have passed, unless the returned Deadline is
 * unsubscribed first. On `asyncScheduler` in real time it joins that scheduler's shared
 * DeadlineQueue; on any other scheduler, and on `asyncScheduler` inside `testScheduler.run()`,
 * it is one `scheduler.schedule` action, so virtual-time order is exactly that of a plain timer.
 */
export function armTimeout(scheduler: SchedulerLike, ms: number, onExpire: () => void): Deadline {
  if (isRealTime(scheduler)) {
    let queue = shared.get(scheduler);
    if (queue === undefined) {
      queue = new DeadlineQueue(scheduler);
      shared.set(scheduler, queue);
    }
    return queue.add(ms, onExpire);
  }
  const due = scheduler.now() + ms;
  const action = scheduler.schedule(onExpire, ms);
  return { due, unsubscribe: () => action.unsubscribe() };
}
