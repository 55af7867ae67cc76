import { describe, expect, it } from 'vitest';
import { JobCancelledError, type JobHandle } from '../../src/index.js';
import { inVirtualTime, only } from '../helpers/virtualTime.js';

/** A subscriber that cancels a job on its first event of `type` whose job is named `name`. */
function cancelOn(type: string, name: string) {
  return (run: Parameters<Parameters<typeof inVirtualTime>[1]>[0]) => {
    let done = false;
    const cancelled: boolean[] = [];
    run.scheduler.events$.subscribe((event) => {
      if (done || event.type !== type) return;
      if (run.scheduler.getJobStatus(event.jobId)?.name !== name) return;
      done = true;
      cancelled.push(run.scheduler.cancelJob(event.jobId));
    });
    return cancelled;
  };
}

describe('cancelJob from a subscriber while the job is being submitted', () => {
  it('on `submitted`: the handler never runs, and the job ends cancelled', async () => {
    let handle: JobHandle | undefined;
    let ran = 0;
    inVirtualTime({}, (run) => {
      void run.scheduler.start();
      const answers = cancelOn('submitted', 'sync')(run);
      handle = run.scheduler.submitJob({ name: 'sync', handler: () => ++ran });
      run.flush();
      expect(answers).toEqual([true]);
      expect(only(run.log, 'started')).toEqual([]);
      expect(only(run.log, 'cancelled')).toEqual(['0:sync']);
      expect(run.scheduler.getJobStatus(handle.id)?.status).toBe('cancelled');
    });
    expect(ran).toBe(0);
    await expect(handle?.result).rejects.toBeInstanceOf(JobCancelledError);
  });

  it('on `started`: a synchronous handler does not run', () => {
    let ran = 0;
    inVirtualTime({}, (run) => {
      void run.scheduler.start();
      const answers = cancelOn('started', 'sync')(run);
      const handle = run.scheduler.submitJob({ name: 'sync', handler: () => ++ran });
      run.flush();
      expect(answers).toEqual([true]);
      expect(run.scheduler.getJobStatus(handle.id)?.status).toBe('cancelled');
      expect(run.events.filter((event) => event.final)).toHaveLength(1);
    });
    expect(ran).toBe(0);
  });

  it('a synchronous handler that cancels its own job ends it cancelled, with one final event', () => {
    inVirtualTime({}, (run) => {
      void run.scheduler.start();
      const handle = run.scheduler.submitJob({
        name: 'self',
        handler: (_payload, { job }) => run.scheduler.cancelJob(job.id),
      });
      run.flush();
      expect(run.scheduler.getJobStatus(handle.id)?.status).toBe('cancelled');
      expect(run.events.filter((event) => event.final).map((event) => event.type)).toEqual([
        'cancelled',
      ]);
    });
  });

  it('a job submitted and cancelled by a subscriber during another announcement never begins', () => {
    let ran = 0;
    inVirtualTime({}, (run) => {
      void run.scheduler.start();
      let inner: JobHandle | undefined;
      let submitted = false;
      run.scheduler.events$.subscribe((event) => {
        if (event.type !== 'submitted' || submitted) return;
        submitted = true;
        inner = run.scheduler.submitJob({ name: 'inner', handler: () => ++ran });
      });
      cancelOn('submitted', 'inner')(run);
      run.scheduler.submitJob({ name: 'outer', handler: () => 'outer' });
      run.flush();
      expect(run.scheduler.getJobStatus(inner?.id ?? '')?.status).toBe('cancelled');
      expect(only(run.log, 'started')).toEqual(['0:outer']);
    });
    expect(ran).toBe(0);
  });

  it('a batch cancelled as its first child is queued ends once, and stop() is not held', async () => {
    let stopped: Promise<unknown> | undefined;
    inVirtualTime({}, (run) => {
      void run.scheduler.start();
      let batchId = '';
      const answers: boolean[] = [];
      run.scheduler.events$.subscribe((event) => {
        if (event.type === 'submitted' && event.job?.name === 'batch') batchId = event.jobId;
        if (event.type === 'queued' && answers.length === 0) {
          answers.push(run.scheduler.cancelJob(batchId));
        }
      });
      run.scheduler.submitJob({
        name: 'batch',
        concurrency: 2,
        jobs: ['first', 'second', 'third'].map((name) => ({ name, handler: run.work(10, name) })),
      });
      run.flush();
      expect(answers).toEqual([true]);
      const finals = run.events.filter((event) => event.final && event.jobId === batchId);
      expect(finals.map((event) => event.type)).toEqual(['cancelled']);
      expect(only(run.log, 'started')).toEqual([]);
      expect(only(run.log, 'cancelled')).toEqual(['0:first', '0:second', '0:third', '0:batch']);
      stopped = run.scheduler.stop();
      run.flush();
    });
    await expect(stopped).resolves.toMatchObject({ cancelled: [] });
  });

  it("a child cancelled on its batch's `submitted` event, before it is announced itself", async () => {
    inVirtualTime({}, (run) => {
      void run.scheduler.start();
      const answers: boolean[] = [];
      run.scheduler.events$.subscribe((event) => {
        if (event.type === 'submitted' && event.jobId === 'batch') {
          answers.push(run.scheduler.cancelJob('c1'));
        }
      });
      run.scheduler.submitJob({
        id: 'batch',
        name: 'batch',
        jobs: [
          { id: 'c0', name: 'c0', handler: run.work(10, 0) },
          { id: 'c1', name: 'c1', handler: run.work(10, 1) },
        ],
      });
      run.flush();
      expect(answers).toEqual([true]);
      expect(run.scheduler.getJobStatus('c1')?.status).toBe('cancelled');
      expect(only(run.log, 'started')).toEqual(['0:c0']);
    });
  });

  it('a job submitted during another announcement cancels itself from its handler', () => {
    inVirtualTime({}, (run) => {
      void run.scheduler.start();
      let innerId = '';
      let answer: boolean | undefined;
      let submitted = false;
      run.scheduler.events$.subscribe((event) => {
        if (event.type !== 'submitted' || submitted) return;
        submitted = true;
        innerId = run.scheduler.submitJob({
          name: 'inner',
          handler: (_payload, { job }) => {
            answer = run.scheduler.cancelJob(job.id);
            return 'ran to the end';
          },
        }).id;
      });
      run.scheduler.submitJob({ name: 'outer', handler: () => 'outer' });
      run.flush();
      expect(answer).toBe(true);
      expect(run.scheduler.getJobStatus(innerId)?.status).toBe('cancelled');
    });
  });
});
