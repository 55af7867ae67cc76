// Fills the disk for real (run it under `ulimit -f`): jobs that stay alive give the database a
// row each at every flush, until its file can grow no more and a write fails; the intake file,
// no longer emptied by a flush, then fills up too and submitJob throws. Prints what it saw, and
// dies by SIGKILL. Usage: node --import tsx test/store/diskFullWorker.ts <db>
import { JobScheduler } from '../../src/index.js';
import { sqliteStore } from '../../src/sqlite.js';

const [path = ''] = process.argv.slice(2);
const writeErrors: string[] = [];
const store = sqliteStore({ path, onWriteError: (error) => writeErrors.push(error.message) });
const scheduler = new JobScheduler({ store });
scheduler.define('echo', (value: string) => value);
await scheduler.start();

const later = { type: 'once' as const, startTime: Date.now() + 3_600_000 };
const payload = 'x'.repeat(1000);
let accepted = 0;
let submitError = '';
while (accepted < 5_000) {
  try {
    scheduler.submitJob({ id: `fill-${accepted}`, name: 'echo', payload, schedule: later });
  } catch (error) {
    submitError = String(error);
    break;
  }
  accepted += 1;
  // A turn every few jobs, for the flushes.
  if (accepted % 5 === 0) await new Promise((resolve) => setImmediate(resolve));
}
process.stdout.write(`${JSON.stringify({ accepted, writeErrors, submitError })}\n`);
process.kill(process.pid, 'SIGKILL');
