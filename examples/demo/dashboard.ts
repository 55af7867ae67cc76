// The terminal view: one frame, at most 80 columns by 18 rows, redrawn in place by log-update
// whenever `events$` or `metrics$` say something changed.
import { createLogUpdate } from 'log-update';
import pc from 'picocolors';
import { auditTime, interval, merge, type Subscription } from 'rxjs';
import type { JobScheduler } from '../../src/index.js';
import {
  clockTime,
  duration,
  type LiveStats,
  PRIORITY_LEVELS,
  priorityName,
  type TailEntry,
} from './liveStats.js';

export interface DashboardClock {
  readonly startedAt: number;
  readonly seconds: number;
  /** Set once a stop has begun: what the header says instead of the countdown. */
  stopping?: string;
}

const LEFT = 38;
const BAR = 16;
/** What is left of 80 columns after the time, type, job and priority of a tail line. */
const TAIL_DETAIL = 31;

const priorityColor: Record<string, (text: string) => string> = {
  critical: pc.red,
  high: pc.yellow,
  normal: pc.cyan,
  low: pc.blue,
};
const eventColor: Partial<Record<TailEntry['type'], (text: string) => string>> = {
  completed: pc.green,
  failed: pc.red,
  retrying: pc.yellow,
  skipped: pc.magenta,
};

/** Pads before colouring, since escape codes take no columns. */
const cell = (text: string, width: number, color: (text: string) => string = String) =>
  color(text.padEnd(width).slice(0, width));

function bar(filled: number, total: number, width: number): string {
  const cells = total === 0 ? 0 : Math.round((Math.min(filled, total) / total) * width);
  return pc.green('█'.repeat(cells)) + pc.dim('░'.repeat(width - cells));
}

export function renderFrame(stats: LiveStats, clock: DashboardClock, now: number): string {
  const { metrics } = stats;
  const elapsed = Math.min((now - clock.startedAt) / 1000, clock.seconds);
  const status =
    clock.stopping ?? `${elapsed.toFixed(1)} s of ${clock.seconds} s · Ctrl-C stops gracefully`;

  const maxQueued = Math.max(BAR, ...stats.queuedByPriority.values());
  const queueRows = PRIORITY_LEVELS.map(([name, priority]) => {
    const count = stats.queuedByPriority.get(priority) ?? 0;
    const length = Math.round((count / maxQueued) * BAR);
    const color = priorityColor[name] ?? String;
    // 3 + 9 + BAR + 5 columns, padded to LEFT; escape codes take none.
    const padding = ' '.repeat(LEFT - 17 - BAR);
    return `   ${cell(name, 9, color)}${color('▮'.repeat(length))}${' '.repeat(BAR - length)}${String(count).padStart(5)}${padding}`;
  });
  const free = Math.max(0, metrics.maxWorkers - stats.busyWorkers);
  const workers = `${pc.green('■'.repeat(stats.busyWorkers))}${pc.dim('□'.repeat(free))}`;
  const right = [
    `${cell('Workers', 12, pc.bold)}${workers} ${stats.busyWorkers}/${metrics.maxWorkers} busy`,
    `${cell('Throughput', 12, pc.bold)}${metrics.throughput.toFixed(1)} runs/s`,
    `${cell('Exec', 12, pc.bold)}p50 ${cell(duration(metrics.execTime.p50), 9)}p95 ${duration(metrics.execTime.p95)}`,
    `${cell('Wait', 12, pc.bold)}p95 ${duration(metrics.waitTime.p95)}`,
    '',
  ];
  const left = [cell(' Queue by priority', LEFT, pc.bold), ...queueRows];
  const columns = left.map((row, index) => `${row}${right[index] ?? ''}`.trimEnd());

  const { batch, cron } = stats;
  const batchDone = batch.completed + batch.failed;
  const nextIn = Math.max(0, cron.nextRunAt - now);
  const counts = [
    `${pc.bold('Completed')} ${pc.green(String(stats.completed))}`,
    `${pc.bold('Failed')} ${pc.red(String(stats.failed))}`,
    `${pc.bold('Retried')} ${pc.yellow(String(stats.retried))}`,
    `${pc.bold('Timed out')} ${pc.magenta(String(stats.timedOut))}`,
    `${pc.bold('Cancelled')} ${stats.cancelled}`,
  ].join('   ');

  const tail = stats.tail.map((entry) => {
    const color = eventColor[entry.type] ?? String;
    const name = priorityName(entry.priority);
    const detail =
      entry.detail.length > TAIL_DETAIL
        ? `${entry.detail.slice(0, TAIL_DETAIL - 1)}…`
        : entry.detail;
    return `   ${pc.dim(clockTime(entry.at))} ${cell(entry.type, 9, color)} ${cell(entry.jobId, 16)} ${cell(name, 8, priorityColor[name])} ${detail}`;
  });

  return [
    `${pc.bold(pc.cyan(' rxjobs demo'))} · ${metrics.maxWorkers} workers · ${status}`,
    '',
    ...columns,
    '',
    ` ${counts}`,
    ` ${cell('Batch', 10, pc.bold)}${batch.name} ${bar(batchDone, batch.total, 30)} ${batchDone}/${batch.total} children${batch.failed > 0 ? pc.red(` (${batch.failed} failed)`) : ''}`,
    ` ${cell('Cron', 10, pc.bold)}${cron.name} ${cron.every} · run ${cron.runs}${cron.nextRunAt === 0 ? '' : ` · next ${clockTime(cron.nextRunAt)} (in ${duration(nextIn)})`}`,
    '',
    pc.bold(' Recent events'),
    ...tail,
  ].join('\n');
}

export interface Dashboard {
  /** Draws the last frame, leaves it on screen and stops redrawing. */
  close(): void;
}

/**
 * Redraws whenever an event or a snapshot arrives, at most every 100 ms, and four times a
 * second regardless so that the clocks tick.
 */
export function startDashboard(
  scheduler: JobScheduler,
  stats: LiveStats,
  clock: DashboardClock,
): Dashboard {
  const draw = createLogUpdate(process.stdout);
  const redraw = () => draw(renderFrame(stats, clock, Date.now()));
  redraw();
  const subscription: Subscription = merge(scheduler.events$, scheduler.metrics$, interval(250))
    .pipe(auditTime(100))
    .subscribe(redraw);
  return {
    close: () => {
      subscription.unsubscribe();
      redraw();
      draw.done();
    },
  };
}
