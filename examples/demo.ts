// The demo behind `npm start`: a mixed workload on the embedded defaults, no server needed, for
// RXJOBS_DEMO_SECONDS seconds (20 by default), then a graceful stop. On a terminal it draws a
// live dashboard from `metrics$` and `events$`; without one it prints a plain line per second.
// Ctrl-C stops early: running jobs get a few seconds to finish, the rest are cancelled, and the
// stop report and a summary table are printed either way.
import { JobScheduler } from '../src/index.js';
import { type DashboardClock, startDashboard } from './demo/dashboard.js';
import { LiveStats } from './demo/liveStats.js';
import { startPlainLines } from './demo/plainLines.js';
import { formatStopReport, formatSummaryTable } from './demo/summary.js';
import { BATCH, CRON, startWorkload } from './demo/workload.js';

const seconds = Number(process.env.RXJOBS_DEMO_SECONDS ?? 20);
if (!(seconds > 0 && seconds <= 3600)) {
  throw new RangeError(
    `Expected \`RXJOBS_DEMO_SECONDS\` to be a number of seconds from 1 to 3600, got \`${process.env.RXJOBS_DEMO_SECONDS}\``,
  );
}
/** How long running jobs get to finish once a stop begins. */
const STOP_TIMEOUT = 3000;

const scheduler = new JobScheduler({
  maxWorkers: 4,
  queueSize: 500,
  retryDelay: 400,
  jobTimeout: 10_000,
  // A snapshot a second: the dashboard's throughput and quantiles, and the plain lines.
  metricsInterval: 1000,
});
const stats = new LiveStats(scheduler);
stats.follow(BATCH, CRON);
await scheduler.start();

const clock: DashboardClock = { startedAt: Date.now(), seconds };
const view = process.stdout.isTTY
  ? startDashboard(scheduler, stats, clock)
  : startPlainLines(scheduler, stats, clock.startedAt);
const workload = startWorkload(scheduler, seconds);

let stopping = false;
async function stop(reason: string): Promise<void> {
  // A second Ctrl-C changes nothing: the deadline already bounds the stop.
  if (stopping) return;
  stopping = true;
  clearTimeout(endOfRun);
  workload.stop();
  const running = scheduler.getMetrics().busyWorkers;
  clock.stopping = `stopping (${reason})`;
  view.close();
  const wait =
    running === 0
      ? 'nothing is running'
      : `${running === 1 ? '1 running job gets' : `${running} running jobs get`} ${STOP_TIMEOUT / 1000} s to finish`;
  console.log(`\nStopping (${reason}): ${wait}.\n`);
  const report = await scheduler.stop({ drain: false, timeout: STOP_TIMEOUT });
  console.log(formatStopReport(report));
  console.log();
  console.log(formatSummaryTable(stats, scheduler.getMetrics(), Date.now() - clock.startedAt));
  process.off('SIGINT', onInterrupt);
  process.off('SIGTERM', onTerminate);
}

const onInterrupt = () => void stop('Ctrl-C');
const onTerminate = () => void stop('SIGTERM');
process.on('SIGINT', onInterrupt);
process.on('SIGTERM', onTerminate);
const endOfRun = setTimeout(() => void stop(`${seconds} s are up`), seconds * 1000);
