// A batch child cancelled before its turn: found by the demo, whose Ctrl-C stop waited out its
// whole deadline while a batch was half done.
import { describe, expect, it } from 'vitest';
import { BatchError, JobCancelledError, type StopReport } from '../../src/index.js';
import { inVirtualTime, only } from '../helpers/virtualTime.js';

describe('JobScheduler batch children cancelled before their turn', () => {
  it('never run, and the batch fails with BatchError once the others settle', async () => {
    let result: Promise<unknown> | undefined;
    inVirtualTime({}, ({ scheduler, log, work, flush }) => {
      void scheduler.start();
      const batch = scheduler.submitJob({
        name: 'batch',
        concurrency: 1,
        jobs: ['a', 'b', 'c'].map((name) => ({ id: name, name, handler: work(10, name) })),
      });
      result = batch.result;
      expect(scheduler.cancelJob('c')).toBe(true);
      flush();
      expect(only(log, 'started')).toEqual(['0:a', '10:b']);
      expect(only(log, 'failed')).toEqual(['20:batch']);
      expect(scheduler.getJobStatus('c')?.status).toBe('cancelled');
    });
    const error = await result?.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BatchError);
    expect((error as BatchError).outcomes).toEqual([
      { id: 'a', status: 'completed', result: 'a' },
      { id: 'b', status: 'completed', result: 'b' },
      { id: 'c', status: 'cancelled', error: expect.any(JobCancelledError) },
    ]);
  });

  it('are not started by the worker a cancelled sibling frees', () => {
    const invoked: string[] = [];
    inVirtualTime({ maxWorkers: 1 }, ({ scheduler, log, testScheduler, flush }) => {
      void scheduler.start();
      scheduler.submitJob({
        id: 'batch',
        name: 'batch',
        concurrency: 2,
        jobs: ['a', 'b'].map((name) => ({
          id: name,
          name,
          handler: () => {
            invoked.push(name);
            return testScheduler.createColdObservable('1s x|');
          },
        })),
      });
      testScheduler.schedule(() => scheduler.cancelJob('batch'), 5);
      flush();
      expect(only(log, 'cancelled')).toEqual(['5:b', '5:a', '5:batch']);
    });
    expect(invoked).toEqual(['a']);
  });

  it('are not started when a subscriber cancels another job during the cascade', () => {
    const invoked: string[] = [];
    inVirtualTime({ maxWorkers: 2 }, ({ scheduler, testScheduler, flush }) => {
      void scheduler.start();
      scheduler.submitJob({
        id: 'x',
        name: 'x',
        handler: () => testScheduler.createColdObservable('1s x|'),
      });
      scheduler.submitJob({
        id: 'batch',
        name: 'batch',
        concurrency: 3,
        jobs: ['a', 'b', 'c'].map((name) => ({
          id: name,
          name,
          handler: () => {
            invoked.push(name);
            return testScheduler.createColdObservable('1s x|');
          },
        })),
      });
      // b's end frees x's worker while c still waits in the queue, not cancelled yet.
      scheduler.events$.subscribe((event) => {
        if (event.jobId === 'b' && event.type === 'cancelled') scheduler.cancelJob('x');
      });
      testScheduler.schedule(() => scheduler.cancelJob('batch'), 5);
      flush();
    });
    expect(invoked).toEqual(['a']);
  });

  it('do not hold a stop without drain until its deadline', async () => {
    let report: Promise<StopReport> | undefined;
    inVirtualTime({}, ({ scheduler, log, work, testScheduler, flush }) => {
      void scheduler.start();
      scheduler.submitJob({
        name: 'batch',
        concurrency: 1,
        jobs: ['a', 'b', 'c'].map((name) => ({ id: name, name, handler: work(10, name) })),
      });
      testScheduler.schedule(() => {
        report = scheduler.stop({ timeout: 1000 });
      }, 5);
      flush();
      // `a` finishes at 10; the stop ends then, not at its deadline of 1005.
      expect(only(log, 'failed')).toEqual(['10:batch']);
      expect(testScheduler.now()).toBe(10);
    });
    expect(await report).toEqual({
      cancelled: [
        { id: 'b', name: 'b', previous: 'pending' },
        { id: 'c', name: 'c', previous: 'pending' },
      ],
      kept: [],
      finishedDuringStop: 2,
    });
  });
});
