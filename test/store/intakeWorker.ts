// Submits jobs to a SQLite store and dies by SIGKILL the moment the last submitJob returns,
// before any flush could run: what the next process finds was on disk when submitJob returned.
// Usage: node --import tsx test/store/intakeWorker.ts <db> <id prefix> normal|full|until-full [flush-mid-batch]
// `until-full` submits until submitJob throws (run it under `ulimit -f`), then prints how many
// it accepted and the error, and dies the same way.
import { JobScheduler } from '../../src/index.js';
import { sqliteStore } from '../../src/sqlite.js';

const [path = '', prefix = 'job', mode = 'normal', flushMidBatch] = process.argv.slice(2);
const store = sqliteStore({ path, synchronous: mode === 'full' ? 'full' : 'normal' });
const scheduler = new JobScheduler({ store });
scheduler.define('echo', (value: number) => value);
await scheduler.start();
// One more event-loop turn: a flush at start() must not hide the jobs submitted below.
await new Promise((resolve) => setImmediate(resolve));

if (mode === 'until-full') {
  let accepted = 0;
  try {
    for (;;) {
      scheduler.submitJob({ id: `${prefix}-${accepted}`, name: 'echo', payload: accepted });
      accepted += 1;
    }
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ accepted, error: String(error) })}\n`);
  }
  process.kill(process.pid, 'SIGKILL');
}

// A flush in the middle of a batch's submission (a subscriber may call it) must not split it.
if (flushMidBatch === 'flush-mid-batch') {
  scheduler.events$.subscribe((event) => {
    if (event.type === 'submitted' && event.jobId === `${prefix}-child-a`) store.flush();
  });
}
for (let i = 0; i < 5; i++) scheduler.submitJob({ id: `${prefix}-${i}`, name: 'echo', payload: i });
// Its snapshot's times come back from the file too; the test compares them with these.
const later = scheduler.submitJob({
  id: `${prefix}-later`,
  name: 'echo',
  payload: 0,
  schedule: { type: 'once', startTime: Date.now() + 3_600_000 },
});
process.stdout.write(`${JSON.stringify(scheduler.getJobStatus(later.id))}\n`);
scheduler.submitJob({
  id: `${prefix}-batch`,
  name: 'echo',
  jobs: [
    { id: `${prefix}-child-a`, name: 'echo', payload: 10 },
    { id: `${prefix}-child-b`, name: 'echo', payload: 11 },
  ],
});
process.kill(process.pid, 'SIGKILL');
