import { asyncScheduler, type SchedulerLike, type Subscription, type Unsubscribable } from 'rxjs';
import { isRealTime } from './realTime.js';

/**
 * One callback waiting in a {@link WakeGroup}; also its own handle, so a sleep costs one object
 * and no closure.
 */
class Sleeper implements Unsubscribable {
  readonly callback: () => void;
  readonly #owner: SharedWakes;
  readonly #group: WakeGroup;
  /** Unsubscribed, or already woken: skipped when the group fires. */
  done = false;

  constructor(callback: () => void, owner: SharedWakes, group: WakeGroup) {
    this.callback = callback;
    this.#owner = owner;
    this.#group = group;
  }

  unsubscribe(): void {
    if (this.done) return;
    this.done = true;
    this.#group.waiting -= 1;
    if (this.#group.waiting === 0) this.#owner.abandon(this.#group);
  }
}

/** The callbacks due at one millisecond, and the one action that wakes them. */
interface WakeGroup {
  readonly due: number;
  readonly sleepers: Sleeper[];
  /** Sleepers not yet done: when it drops to 0 the action is cancelled. */
  waiting: number;
  action: Subscription | undefined;
}

/**
 * Sleeps grouped by due millisecond, one scheduler action per group. Ten thousand cron jobs on
 * one expression are due at the same millisecond: with a timer each (an AsyncAction and a
 * `setInterval`), every fire paid for its own timer, and the runs of earlier fires executed
 * between later fires, so the last fire of a mark was queued 190 ms after the first. In one
 * group they are all queued in one timer callback.
 *
 * Used for real time only, through {@link wakeAfter}: with a virtual clock, where actions due in
 * the same frame run in the order they were scheduled, a group's action scheduled early would
 * run a late joiner before a timer scheduled between the two.
 */
export class SharedWakes {
  readonly #scheduler: SchedulerLike;
  readonly #groups = new Map<number, WakeGroup>();

  constructor(scheduler: SchedulerLike) {
    this.#scheduler = scheduler;
  }

  /** Groups with a sleeper still waiting, each holding one action: for tests and diagnostics. */
  get size(): number {
    return this.#groups.size;
  }

  /**
   * Calls `callback` at `now + delay`, after every callback added before it for the same
   * millisecond. `now` is the caller's clock reading, so callers that read the same time and
   * ask for the same due time share a group even if the clock ticks over between their calls.
   */
  sleep(delay: number, callback: () => void, now = this.#scheduler.now()): Unsubscribable {
    const due = now + delay;
    let group = this.#groups.get(due);
    if (group === undefined) {
      const created: WakeGroup = { due, sleepers: [], waiting: 0, action: undefined };
      const wait = Math.max(0, due - this.#scheduler.now());
      created.action = this.#scheduler.schedule(() => this.#wake(created), wait);
      this.#groups.set(due, created);
      group = created;
    }
    const sleeper = new Sleeper(callback, this, group);
    group.sleepers.push(sleeper);
    group.waiting += 1;
    return sleeper;
  }

  /** Nobody in `group` is left to wake: an idle program holds no timer. */
  abandon(group: WakeGroup): void {
    group.action?.unsubscribe();
    group.action = undefined;
    if (this.#groups.get(group.due) === group) this.#groups.delete(group.due);
  }

  #wake(group: WakeGroup): void {
    // Out of the map first: a callback that sleeps again until the same millisecond (an early
    // wake re-arming) starts a new group rather than joining the one being woken.
    if (this.#groups.get(group.due) === group) this.#groups.delete(group.due);
    group.action = undefined;
    // One callback that throws must not keep the others asleep; the first error is rethrown
    // afterwards, as a throwing timer's would be.
    let failure: { error: unknown } | undefined;
    for (const sleeper of group.sleepers) {
      if (sleeper.done) continue;
      sleeper.done = true;
      group.waiting -= 1;
      try {
        sleeper.callback();
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure !== undefined) throw failure.error;
  }
}

const realTime = new SharedWakes(asyncScheduler);

/**
 * Calls `callback` once `delay` ms of scheduler time have passed since `now` (by default, now),
 * unless unsubscribed first. On `asyncScheduler` in real time the sleep joins the
 * {@link SharedWakes} of that scheduler; on any other scheduler, and on `asyncScheduler` inside
 * `testScheduler.run()`, it is one `scheduler.schedule` action, so a TestScheduler orders it
 * exactly as it orders any other timer of the same frame.
 */
export function wakeAfter(
  scheduler: SchedulerLike,
  delay: number,
  callback: () => void,
  now?: number,
): Unsubscribable {
  if (!isRealTime(scheduler)) return scheduler.schedule(callback, delay);
  return realTime.sleep(delay, callback, now);
}
