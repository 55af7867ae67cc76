// Submits jobs to a SQLite store and dies by SIGKILL the moment the last submitJob returns,
// before any flush could run: what the next process finds was on disk when submitJob returned.
// Usage: node --import tsx test/store/intakeWorker.ts <db>
import { JobScheduler } from '../../src/index.js';
import { sqliteStore } from '../../src/sqlite.js';

const [path = ''] = process.argv.slice(2);
const scheduler = new JobScheduler({ store: sqliteStore({ path }) });
scheduler.define('echo', (value: number) => value);
await scheduler.start();
// One more event-loop turn: a flush at start() must not hide the jobs submitted below.
await new Promise((resolve) => setImmediate(resolve));
for (let i = 0; i < 5; i++) scheduler.submitJob({ id: `job-${i}`, name: 'echo', payload: i });
scheduler.submitJob({
  id: 'batch',
  name: 'echo',
  jobs: [
    { id: 'child-a', name: 'echo', payload: 10 },
    { id: 'child-b', name: 'echo', payload: 11 },
  ],
});
process.kill(process.pid, 'SIGKILL');
