import { setTimeout as sleep } from 'node:timers/promises';
import { asyncScheduler, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import { SharedWakes, wakeAfter } from '../../operators/sharedWake.js';

describe('SharedWakes', () => {
  it('wakes every sleeper due at one millisecond from one action, in the order they slept', () => {
    const scheduler = new VirtualTimeScheduler();
    const wakes = new SharedWakes(scheduler);
    const woke: string[] = [];
    const log = (name: string) => () => woke.push(`${scheduler.now()}:${name}`);
    wakes.sleep(10, log('a'));
    wakes.sleep(10, log('b'));
    scheduler.schedule(() => wakes.sleep(5, log('c')), 5);
    wakes.sleep(20, log('d'));
    // Two groups (10 and 20), plus the action that adds c.
    expect(scheduler.actions).toHaveLength(3);
    scheduler.flush();
    expect(woke).toEqual(['10:a', '10:b', '10:c', '20:d']);
    expect(wakes.size).toBe(0);
  });

  it('keys a sleep by the clock reading its caller gives', () => {
    const scheduler = new VirtualTimeScheduler();
    const wakes = new SharedWakes(scheduler);
    const woke: number[] = [];
    scheduler.schedule(() => {
      // Read at 0 by the caller, armed at 3: still due at 10, in the group made at 0.
      wakes.sleep(10, () => woke.push(scheduler.now()), 0);
    }, 3);
    wakes.sleep(10, () => woke.push(scheduler.now()));
    scheduler.flush();
    expect(woke).toEqual([10, 10]);
  });

  it('skips an unsubscribed sleeper, and cancels the action when none is left', () => {
    const scheduler = new VirtualTimeScheduler();
    const wakes = new SharedWakes(scheduler);
    const first = vi.fn();
    const second = vi.fn();
    const a = wakes.sleep(10, first);
    const b = wakes.sleep(10, second);
    a.unsubscribe();
    a.unsubscribe();
    expect(scheduler.actions).toHaveLength(1);
    b.unsubscribe();
    expect(scheduler.actions).toHaveLength(0);
    expect(wakes.size).toBe(0);
    scheduler.flush();
    expect(first).not.toHaveBeenCalled();
    expect(second).not.toHaveBeenCalled();
  });

  it('starts a new group for a sleeper that sleeps again until the same millisecond', () => {
    const scheduler = new VirtualTimeScheduler();
    const wakes = new SharedWakes(scheduler);
    const woke: string[] = [];
    wakes.sleep(10, () => {
      woke.push('first');
      wakes.sleep(0, () => woke.push('again'));
    });
    wakes.sleep(10, () => woke.push('second'));
    scheduler.flush();
    expect(woke).toEqual(['first', 'second', 'again']);
  });

  it('wakes the others when one throws, then rethrows the first error', () => {
    const scheduler = new VirtualTimeScheduler();
    const wakes = new SharedWakes(scheduler);
    const after = vi.fn();
    wakes.sleep(10, () => {
      throw new Error('first');
    });
    wakes.sleep(10, () => {
      throw new Error('second');
    });
    wakes.sleep(10, after);
    expect(() => scheduler.flush()).toThrow('first');
    expect(after).toHaveBeenCalledOnce();
  });
});

describe('wakeAfter', () => {
  it('is one action per sleep on a scheduler other than asyncScheduler', () => {
    const scheduler = new VirtualTimeScheduler();
    const woke: number[] = [];
    wakeAfter(scheduler, 10, () => woke.push(1));
    wakeAfter(scheduler, 10, () => woke.push(2));
    expect(scheduler.actions).toHaveLength(2);
    scheduler.flush();
    expect(woke).toEqual([1, 2]);
  });

  it('shares one timer on asyncScheduler, and leaves none once all have woken', async () => {
    const timers = () =>
      process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const before = timers();
    const now = asyncScheduler.now();
    const woke: number[] = [];
    for (let i = 0; i < 50; i++) wakeAfter(asyncScheduler, 5, () => woke.push(i), now);
    expect(timers()).toBe(before + 1);
    await sleep(30);
    expect(woke).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(timers()).toBe(before);
  });
});
