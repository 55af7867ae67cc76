import { config, Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Priority } from '../../src/index.js';
import { inVirtualTime, only } from '../helpers/virtualTime.js';

describe('JobScheduler dispatch', () => {
  it('runs at most maxWorkers handlers at once', () => {
    inVirtualTime({ maxWorkers: 3 }, ({ scheduler, events, work, flush }) => {
      void scheduler.start();
      for (let i = 0; i < 10; i++)
        scheduler.submitJob({ name: `job${i}`, handler: work(10 + i, i) });
      flush();
      let running = 0;
      let peak = 0;
      for (const event of events) {
        if (event.type === 'started') running += 1;
        if (event.execTime !== undefined) running -= 1;
        peak = Math.max(peak, running);
      }
      expect(peak).toBe(3);
      expect(scheduler.getMetrics().completedJobs).toBe(10);
    });
  });

  it('tears an Observable handler down before the next one starts in its worker', () => {
    inVirtualTime({ maxWorkers: 1 }, ({ scheduler, testScheduler, flush }) => {
      const log: string[] = [];
      const handler = (name: string) => () =>
        new Observable<string>((subscriber) => {
          log.push(`open ${name}`);
          const done = testScheduler.schedule(() => subscriber.complete(), 10);
          return () => {
            done.unsubscribe();
            log.push(`close ${name}`);
          };
        });
      void scheduler.start();
      for (const name of ['a', 'b', 'c']) scheduler.submitJob({ name, handler: handler(name) });
      flush();
      expect(log).toEqual(['open a', 'close a', 'open b', 'close b', 'open c', 'close c']);
    });
  });

  it('frees the worker of a handler whose teardown throws', () => {
    const reported: unknown[] = [];
    const before = config.onUnhandledError;
    config.onUnhandledError = (error) => reported.push(error);
    try {
      inVirtualTime({ maxWorkers: 1 }, ({ scheduler, log, testScheduler, flush }) => {
        void scheduler.start();
        scheduler.submitJob({
          name: 'a',
          handler: () =>
            new Observable<string>((subscriber) => {
              const done = testScheduler.schedule(() => subscriber.complete(), 10);
              return () => {
                done.unsubscribe();
                throw new Error('teardown failed');
              };
            }),
        });
        scheduler.submitJob({ name: 'b', handler: () => 'b' });
        flush();
        expect(only(log, 'completed')).toEqual(['10:a', '10:b']);
      });
    } finally {
      config.onUnhandledError = before;
    }
    expect(reported).toHaveLength(1);
  });

  it('starts the highest priority first when a worker frees, FIFO among equals', () => {
    inVirtualTime({ maxWorkers: 1 }, ({ scheduler, log, work, flush }) => {
      void scheduler.start();
      scheduler.submitJob({ name: 'first', priority: Priority.Low, handler: work(10, 0) });
      scheduler.submitJob({ name: 'low', priority: Priority.Low, handler: work(10, 0) });
      scheduler.submitJob({ name: 'normal-a', priority: Priority.Normal, handler: work(10, 0) });
      scheduler.submitJob({ name: 'critical', priority: Priority.Critical, handler: work(10, 0) });
      scheduler.submitJob({ name: 'normal-b', priority: Priority.Normal, handler: work(10, 0) });
      scheduler.submitJob({ name: 'high', priority: Priority.High, handler: work(10, 0) });
      scheduler.submitJob({ name: 'fractional', priority: 2.5, handler: work(10, 0) });
      flush();
      expect(only(log, 'started')).toEqual([
        '0:first',
        '10:critical',
        '20:fractional',
        '30:high',
        '40:normal-a',
        '50:normal-b',
        '60:low',
      ]);
    });
  });

  it('dispatches in submission order with enablePriority: false', () => {
    inVirtualTime({ maxWorkers: 1, enablePriority: false }, ({ scheduler, log, work, flush }) => {
      void scheduler.start();
      scheduler.submitJob({ name: 'a', priority: Priority.Low, handler: work(5, 0) });
      scheduler.submitJob({ name: 'b', priority: Priority.Low, handler: work(5, 0) });
      scheduler.submitJob({ name: 'c', priority: Priority.Critical, handler: work(5, 0) });
      flush();
      expect(only(log, 'started')).toEqual(['0:a', '5:b', '10:c']);
    });
  });

  it('holds jobs submitted before start(), then runs them by priority', () => {
    inVirtualTime({ maxWorkers: 1 }, ({ scheduler, log, work, testScheduler, flush }) => {
      scheduler.submitJob({ name: 'low', priority: Priority.Low, handler: work(5, 0) });
      scheduler.submitJob({ name: 'critical', priority: Priority.Critical, handler: work(5, 0) });
      expect(scheduler.listJobs('queued').map((job) => job.name)).toEqual(['low', 'critical']);
      testScheduler.schedule(() => void scheduler.start(), 100);
      flush();
      expect(only(log, 'started')).toEqual(['100:critical', '105:low']);
    });
  });

  it('returns an already settled Promise from start()', async () => {
    let settled = false;
    inVirtualTime({}, ({ scheduler }) => {
      void scheduler.start().then(() => {
        settled = true;
      });
    });
    await Promise.resolve();
    expect(settled).toBe(true);
  });

  it('takes a synchronous throw in a handler as a failed attempt', () => {
    inVirtualTime({ enableRetry: false }, ({ scheduler, work, flush }) => {
      void scheduler.start();
      const bad = scheduler.submitJob({
        name: 'throws',
        handler: () => {
          throw new Error('boom');
        },
      });
      const good = scheduler.submitJob({ name: 'fine', handler: work(1, 'ok') });
      flush();
      expect(scheduler.getJobStatus(bad.id)).toMatchObject({
        status: 'failed',
        error: new Error('boom'),
      });
      expect(scheduler.getJobStatus(good.id)).toMatchObject({ status: 'completed', result: 'ok' });
    });
  });

  it('fails the attempt, not the scheduler, when what a handler returned cannot be read', () => {
    inVirtualTime({ enableRetry: false }, ({ scheduler, events, work, flush }) => {
      void scheduler.start();
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      const boom = new Error('then getter');
      const revoked = scheduler.submitJob({ name: 'revoked', handler: () => proxy });
      const getter = scheduler.submitJob({
        name: 'getter',
        handler: () => ({
          // biome-ignore lint/suspicious/noThenProperty: a then that cannot be read is the point.
          get then(): never {
            throw boom;
          },
        }),
      });
      const promise = Promise.resolve(1);
      Object.defineProperty(promise, 'constructor', {
        get(): never {
          throw boom;
        },
      });
      const guarded = scheduler.submitJob({ name: 'constructor', handler: () => promise });
      const ownThen = Promise.resolve(2);
      Object.defineProperty(ownThen, 'then', {
        value: () => {
          throw boom;
        },
      });
      const thrower = scheduler.submitJob({ name: 'own-then', handler: () => ownThen });
      const good = scheduler.submitJob({ name: 'fine', handler: work(1, 'ok') });
      flush();
      expect(scheduler.getJobStatus(thrower.id)).toMatchObject({ status: 'failed', error: boom });
      expect(scheduler.getJobStatus(guarded.id)).toMatchObject({
        status: 'failed',
        error: boom,
      });
      expect(scheduler.getJobStatus(revoked.id)).toMatchObject({ status: 'failed' });
      expect(scheduler.getJobStatus(revoked.id)?.error).toBeInstanceOf(TypeError);
      expect(scheduler.getJobStatus(getter.id)).toMatchObject({ status: 'failed', error: boom });
      expect(scheduler.getJobStatus(good.id)).toMatchObject({ status: 'completed', result: 'ok' });
      expect(events.filter((event) => event.final)).toHaveLength(5);
    });
  });

  it('uses the last value of an Observable handler as the result', () => {
    inVirtualTime({}, ({ scheduler, testScheduler, flush }) => {
      void scheduler.start();
      const job = scheduler.submitJob({
        name: 'stream',
        handler: () => testScheduler.createColdObservable('-a-b-c|', { a: 1, b: 2, c: 3 }),
      });
      flush();
      expect(scheduler.getJobStatus(job.id)).toMatchObject({
        status: 'completed',
        result: 3,
        finishedAt: 6,
      });
    });
  });
});
