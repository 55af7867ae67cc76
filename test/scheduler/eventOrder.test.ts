import { describe, expect, it } from 'vitest';
import type { JobEvent } from '../../src/index.js';
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
});
