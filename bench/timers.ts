/**
 * Workload 4: thousands of registered cron jobs firing together. Measures how late each fire is
 * queued (its `queued` event, against the fire time it stands for), how late the first fire of
 * each mark is (the timer alone), and the CPU the process uses between marks, when nothing is
 * due.
 */
import type { Library } from './build.js';
import { collectGarbage, percentile } from './harness.js';
import { type Figure, goal, type WorkloadResult } from './report.js';

export interface TimersOptions {
  readonly cronJobs: number;
  /** Every job's expression; a seconds field keeps the run short. */
  readonly expression: string;
  /** Fire marks to observe. */
  readonly marks: number;
}

const noop = async (): Promise<void> => {};

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Wall-clock epoch ms with sub-millisecond precision. */
function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

export async function timers(lib: Library, options: TimersOptions): Promise<WorkloadResult> {
  const { JobScheduler } = lib.scheduler;
  const { cronJobs, expression, marks } = options;
  const scheduler = new JobScheduler({ maxWorkers: 4, queueSize: cronJobs * 2 });
  await scheduler.start();

  const lateness: number[] = [];
  const firstOfMark = new Map<number, number>();
  let period = 0;
  // Fires due while the registration loop held the event loop are late because of it: the
  // measurement starts at the first mark after it.
  let measureFrom = Number.POSITIVE_INFINITY;
  scheduler.events$.subscribe((event) => {
    if (event.type !== 'queued' || event.nextRunAt === undefined) return;
    const lateBy = preciseNow();
    // The fire this run stands for is one period before the next one.
    const scheduledAt = event.nextRunAt - period;
    if (scheduledAt < measureFrom) return;
    lateness.push(lateBy - scheduledAt);
    if (!firstOfMark.has(scheduledAt)) firstOfMark.set(scheduledAt, lateBy - scheduledAt);
  });

  const registerStart = performance.now();
  for (let i = 0; i < cronJobs; i++) {
    scheduler.submitJob({
      name: `cron-${i}`,
      schedule: { type: 'cron', cronExpr: expression },
      handler: noop,
    });
  }
  const registerMs = performance.now() - registerStart;
  const { nextCronFire } = lib.operators;
  const first = nextCronFire(expression, Date.now()) as number;
  period = (nextCronFire(expression, first) as number) - first;
  measureFrom = first;
  collectGarbage();

  // Observe `marks` marks; between two of them, once the fires and their runs are over, read the
  // CPU used over most of the quiet time.
  const idle: { cpuMs: number; wallMs: number }[] = [];
  for (let mark = 0; mark < marks; mark++) {
    const fireAt = first + mark * period;
    await sleep(fireAt - Date.now() + period * 0.3);
    const windowEnd = fireAt + period * 0.9;
    const cpu = process.cpuUsage();
    const wallStart = performance.now();
    await sleep(windowEnd - Date.now());
    const used = process.cpuUsage(cpu);
    idle.push({ cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - wallStart });
  }
  await scheduler.stop();

  const cpuShare =
    idle.reduce((sum, { cpuMs }) => sum + cpuMs, 0) /
    idle.reduce((sum, { wallMs }) => sum + wallMs, 0);
  const p99 = percentile(lateness, 0.99);
  const figures: Figure[] = [
    { name: 'registration, per cron job', value: registerMs / cronJobs, unit: 'ms' },
    {
      name: 'fire lateness p50',
      value: percentile(lateness, 0.5),
      unit: 'ms',
      note: `${lateness.length} fires`,
    },
    { name: 'fire lateness p99', value: p99, unit: 'ms', note: `${lateness.length} fires` },
    { name: 'fire lateness max', value: percentile(lateness, 1), unit: 'ms' },
    {
      name: 'first fire of a mark, median lateness',
      value: percentile([...firstOfMark.values()], 0.5),
      unit: 'ms',
      note: `${firstOfMark.size} marks: the timer alone`,
    },
    {
      name: 'CPU between marks',
      value: cpuShare * 100,
      unit: '% of a core',
      note: `${idle.length} windows`,
    },
  ];
  return {
    workload: 'timers',
    title: `Timers: ${cronJobs} cron jobs '${expression}' on one scheduler, ${marks} marks`,
    figures,
    goals: [
      goal(
        'Cron fire lateness p99',
        { value: p99, unit: 'ms' },
        { name: 'budget', value: 5 },
        'at most',
        1,
      ),
      goal(
        'CPU between marks',
        { value: cpuShare * 100, unit: '% of a core' },
        { name: 'budget', value: 1 },
        'at most',
        1,
      ),
    ],
  };
}
