import { describe, expect, it } from 'vitest';
import type { JobEvent, StopReport } from '../../src/index.js';
import { inVirtualTime } from '../helpers/virtualTime.js';

/** `jobName:type` for each event, by a subscriber that only watches. */
function watch(events: JobEvent[], names: Map<string, string>): string[] {
  return events.map((event) => `${names.get(event.jobId) ?? event.jobId}:${event.type}`);
}

describe('events$ order when a subscriber acts on an event', () => {
  it("gives every later subscriber a job's events in order, cause before effect", () => {
    inVirtualTime({}, ({ scheduler, testScheduler, flush }) => {
      void scheduler.start();
      const names = new Map<string, string>();
      const statusSeen: (string | undefined)[] = [];
      scheduler.events$.subscribe((event) => {
        if (event.type === 'submitted') names.set(event.jobId, event.job?.name ?? '');
        if (event.type === 'started' && names.get(event.jobId) === 'x') {
          scheduler.cancelJob(event.jobId);
          // The store already has it, though later subscribers have not heard yet.
          statusSeen.push(scheduler.getJobStatus(event.jobId)?.status);
        }
      });
      const later: JobEvent[] = [];
      scheduler.events$.subscribe((event) => later.push(event));
      scheduler.submitJob({
        name: 'x',
        handler: () => testScheduler.createColdObservable('5ms a|'),
      });
      flush();
      expect(statusSeen).toEqual(['cancelled']);
      expect(watch(later, names)).toEqual(['x:submitted', 'x:queued', 'x:started', 'x:cancelled']);
    });
  });

  it("keeps a batch's end after its child's, when a subscriber cancels the child as it starts", () => {
    inVirtualTime({}, ({ scheduler, testScheduler, flush }) => {
      void scheduler.start();
      const names = new Map<string, string>();
      scheduler.events$.subscribe((event) => {
        if (event.type === 'submitted') names.set(event.jobId, event.job?.name ?? '');
        if (event.type === 'started') scheduler.cancelJob(event.jobId);
      });
      const later: JobEvent[] = [];
      scheduler.events$.subscribe((event) => later.push(event));
      scheduler.submitJob({
        name: 'batch',
        jobs: [{ name: 'child', handler: () => testScheduler.createColdObservable('5ms a|') }],
      });
      flush();
      expect(watch(later, names)).toEqual([
        'batch:submitted',
        'child:submitted',
        'child:queued',
        'child:started',
        'child:cancelled',
        'batch:failed',
      ]);
    });
  });

  it('replays a job submitted from a subscriber once, though its events wait to be sent', () => {
    inVirtualTime({}, ({ scheduler, testScheduler, flush }) => {
      void scheduler.start();
      const replayed: string[] = [];
      let submitted = false;
      scheduler.events$.subscribe((event) => {
        if (event.type !== 'started' || submitted) return;
        submitted = true;
        // The cancel's event waits for `started` to reach everyone; the new job's wait behind it.
        scheduler.cancelJob(event.jobId);
        const handle = scheduler.submitJob({
          name: 'follow-up',
          handler: () => testScheduler.createColdObservable('5ms a|'),
        });
        handle.events$.subscribe((own) => replayed.push(own.type));
      });
      scheduler.submitJob({
        name: 'x',
        handler: () => testScheduler.createColdObservable('5ms a|'),
      });
      flush();
      expect(replayed).toEqual(['submitted', 'queued', 'started', 'completed']);
    });
  });

  it("keeps a batch's end after the child's end that a subscriber cancelled it on", () => {
    inVirtualTime({ maxWorkers: 1 }, ({ scheduler, testScheduler, flush }) => {
      void scheduler.start();
      const names = new Map<string, string>();
      scheduler.events$.subscribe((event) => {
        if (event.type === 'submitted') names.set(event.jobId, event.job?.name ?? '');
        if (event.type === 'completed' && names.get(event.jobId) === 'c1') {
          scheduler.cancelJob([...names].find(([, name]) => name === 'batch')?.[0] ?? '');
        }
      });
      const later: JobEvent[] = [];
      scheduler.events$.subscribe((event) => later.push(event));
      scheduler.submitJob({
        name: 'batch',
        jobs: ['c1', 'c2'].map((name) => ({
          name,
          handler: () => testScheduler.createColdObservable('5ms a|'),
        })),
      });
      flush();
      expect(watch(later, names).slice(-3)).toEqual([
        'c1:completed',
        'c2:cancelled',
        'batch:cancelled',
      ]);
    });
  });

  it("ends a handle's events$ first subscribed on that job's own final event", () => {
    const got: string[] = [];
    let completed = false;
    inVirtualTime({}, ({ scheduler, work, flush }) => {
      void scheduler.start();
      let id = '';
      scheduler.events$.subscribe((event) => {
        if (!event.final || event.jobId !== id) return;
        handle.events$.subscribe({
          next: (own) => got.push(own.type),
          complete: () => {
            completed = true;
          },
        });
      });
      const handle = scheduler.submitJob({ name: 'x', handler: work(5, 'a') });
      id = handle.id;
      flush();
    });
    expect(completed).toBe(true);
    expect(got).toEqual(['submitted', 'queued', 'started', 'completed']);
  });

  it.each([1000, 1, 0])(
    "keeps a batch's end after its child's with retention %i, which may evict the child",
    (retention) => {
      inVirtualTime({ retention }, ({ scheduler, work, flush }) => {
        void scheduler.start();
        const names = new Map<string, string>();
        scheduler.events$.subscribe((event) => {
          if (event.type === 'submitted') names.set(event.jobId, event.job?.name ?? '');
          const name = names.get(event.jobId);
          if (name === 'child' && event.type === 'queued') scheduler.cancelJob(event.jobId);
          if (name === 'child' && event.type === 'cancelled') {
            scheduler.cancelJob([...names].find(([, other]) => other === 'batch')?.[0] ?? '');
          }
        });
        const later: JobEvent[] = [];
        scheduler.events$.subscribe((event) => later.push(event));
        scheduler.submitJob({ name: 'batch', jobs: [{ name: 'child', handler: work(5, 'a') }] });
        flush();
        expect(watch(later, names)).toEqual([
          'batch:submitted',
          'child:submitted',
          'child:queued',
          'child:cancelled',
          'batch:cancelled',
        ]);
      });
    },
  );

  it('gives a subscription made while events wait none of those, as its report starts after them', async () => {
    let report: Promise<StopReport> | undefined;
    const lateSeen: string[] = [];
    inVirtualTime({}, ({ scheduler, testScheduler, flush }) => {
      void scheduler.start();
      scheduler.events$.subscribe((event) => {
        if (event.type !== 'started' || report !== undefined) return;
        // The cancel's event waits for `started` to reach everyone; the stop starts after it.
        scheduler.cancelJob(event.jobId);
        scheduler.events$.subscribe((late) => lateSeen.push(late.type));
        report = scheduler.stop();
      });
      scheduler.submitJob({
        name: 'x',
        handler: () => testScheduler.createColdObservable('5ms a|'),
      });
      flush();
    });
    expect(lateSeen).toEqual([]);
    expect(await report).toEqual({ cancelled: [], kept: [], finishedDuringStop: 0 });
  });
});
