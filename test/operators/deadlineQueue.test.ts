import { asyncScheduler, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import { armTimeout, DeadlineQueue } from '../../operators/deadlineQueue.js';
import { ClockScheduler } from '../helpers/epochScheduler.js';

describe('DeadlineQueue', () => {
  it('expires each deadline at its due time, equal ones in the order they were added', () => {
    const scheduler = new VirtualTimeScheduler();
    const queue = new DeadlineQueue(scheduler);
    const fired: string[] = [];
    const log = (name: string) => () => fired.push(`${scheduler.now()}:${name}`);
    queue.add(30, log('a30'));
    queue.add(10, log('b10'));
    scheduler.schedule(() => {
      // Due at 30 too, from another lane: after a30, which was added first.
      queue.add(25, log('c25'));
      queue.add(5, log('d5'));
    }, 5);
    scheduler.flush();
    expect(fired).toEqual(['10:b10', '10:d5', '30:a30', '30:c25']);
    expect(queue.size).toBe(0);
  });

  it('does not expire a cancelled deadline, and holds no action once none is pending', () => {
    const scheduler = new VirtualTimeScheduler();
    const queue = new DeadlineQueue(scheduler);
    const onExpire = vi.fn();
    const first = queue.add(10, onExpire);
    const second = queue.add(20, onExpire);
    expect(scheduler.actions).toHaveLength(1);
    first.unsubscribe();
    expect(queue.size).toBe(1);
    second.unsubscribe();
    expect(queue.size).toBe(0);
    expect(scheduler.actions).toHaveLength(0);
    scheduler.flush();
    expect(onExpire).not.toHaveBeenCalled();
  });

  it('re-arms for the next deadline when the earliest is cancelled', () => {
    const scheduler = new VirtualTimeScheduler();
    const queue = new DeadlineQueue(scheduler);
    const fired: number[] = [];
    queue.add(10, () => fired.push(scheduler.now())).unsubscribe();
    queue.add(10, () => fired.push(scheduler.now()));
    queue.add(50, () => fired.push(scheduler.now()));
    scheduler.flush();
    expect(fired).toEqual([10, 50]);
  });

  it('never expires early, even when its timer fires early', () => {
    const virtual = new VirtualTimeScheduler();
    // Every timer fires after 60% of the delay it was asked for.
    const scheduler = new ClockScheduler(virtual, { sleep: (delay) => Math.ceil(delay * 0.6) });
    const queue = new DeadlineQueue(scheduler);
    const fired: number[] = [];
    queue.add(100, () => fired.push(scheduler.now()));
    virtual.flush();
    expect(fired).toEqual([100]);
    expect(scheduler.delays.length).toBeGreaterThan(1);
  });

  it('expires the others due with a callback that throws, then rethrows its error', () => {
    const scheduler = new VirtualTimeScheduler();
    const queue = new DeadlineQueue(scheduler);
    const fired: string[] = [];
    queue.add(10, () => {
      throw new Error('boom');
    });
    queue.add(10, () => fired.push('second'));
    expect(() => scheduler.flush()).toThrow('boom');
    expect(fired).toEqual(['second']);
    expect(queue.size).toBe(0);
  });

  it('re-arms for what is pending when its scheduler dropped the timer', () => {
    const scheduler = new VirtualTimeScheduler();
    const queue = new DeadlineQueue(scheduler);
    const fired: string[] = [];
    queue.add(10, () => {
      throw new Error('boom');
    });
    queue.add(20, () => fired.push('pending'));
    // A throwing action makes VirtualTimeScheduler drop every other action, the re-armed one too.
    expect(() => scheduler.flush()).toThrow('boom');
    expect(scheduler.actions).toHaveLength(0);
    queue.add(100, () => fired.push('added'));
    scheduler.flush();
    expect(fired).toEqual(['pending', 'added']);
  });

  it('keeps working when many deadlines are cancelled behind one that is pending', () => {
    const scheduler = new VirtualTimeScheduler();
    const queue = new DeadlineQueue(scheduler);
    const fired: string[] = [];
    queue.add(1000, () => fired.push('long'));
    for (let i = 0; i < 10_000; i++) queue.add(1000, () => fired.push('short')).unsubscribe();
    queue.add(1000, () => fired.push('last'));
    expect(queue.size).toBe(2);
    scheduler.flush();
    expect(fired).toEqual(['long', 'last']);
  });

  it('adds a deadline from inside an expiry and still fires it', () => {
    const scheduler = new VirtualTimeScheduler();
    const queue = new DeadlineQueue(scheduler);
    const fired: number[] = [];
    queue.add(10, () => queue.add(10, () => fired.push(scheduler.now())));
    scheduler.flush();
    expect(fired).toEqual([20]);
  });
});

describe('armTimeout', () => {
  it('schedules one action per timeout on a virtual scheduler', () => {
    const scheduler = new VirtualTimeScheduler();
    const schedule = vi.spyOn(scheduler, 'schedule');
    const a = armTimeout(scheduler, 10, () => {});
    const b = armTimeout(scheduler, 10, () => {});
    expect(schedule).toHaveBeenCalledTimes(2);
    expect(a.due).toBe(10);
    a.unsubscribe();
    b.unsubscribe();
    expect(scheduler.actions).toHaveLength(0);
  });

  it('shares one action between timeouts on asyncScheduler, and leaves none when cancelled', () => {
    const timers = () =>
      process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const before = timers();
    const schedule = vi.spyOn(asyncScheduler, 'schedule');
    try {
      const deadlines = [1, 2, 3].map(() => armTimeout(asyncScheduler, 60_000, () => {}));
      expect(schedule).toHaveBeenCalledTimes(1);
      expect(timers()).toBe(before + 1);
      for (const deadline of deadlines) deadline.unsubscribe();
      expect(timers()).toBe(before);
    } finally {
      schedule.mockRestore();
    }
  });

  it('expires on asyncScheduler in real time', async () => {
    const started = Date.now();
    const at = await new Promise<number>((resolve) => {
      armTimeout(asyncScheduler, 15, () => resolve(Date.now()));
    });
    expect(at - started).toBeGreaterThanOrEqual(15);
  });
});
