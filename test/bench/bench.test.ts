// The bench's smoke test: `--quick` runs every workload with tiny sizes through the same code.
// It checks that the bench runs and reports every workload and goal, never how fast anything is.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const outDir = mkdtempSync(join(tmpdir(), 'rxjobs-bench-'));
const out = join(outDir, 'quick.json');

interface Report {
  readonly quick: boolean;
  readonly results: readonly {
    readonly workload: string;
    readonly figures: readonly { readonly name: string; readonly value: number }[];
    readonly goals: readonly { readonly name: string; readonly ratio: number }[];
  }[];
}

describe('npm run bench -- --quick', () => {
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('exits 0 and reports every workload and goal, in the table and in the JSON', async () => {
    // execFile rejects on a non-zero exit code or the timeout, which fails the test.
    const { stdout } = await run(
      'node',
      ['--expose-gc', '--import', 'tsx', 'bench/index.ts', '--quick', `--out=${out}`],
      { cwd: root, timeout: 60_000 },
    );
    const report = JSON.parse(readFileSync(out, 'utf8')) as Report;
    expect(report.quick).toBe(true);
    expect(report.results.map((result) => result.workload)).toEqual([
      'throughput',
      'memory',
      'latency',
      'timers',
      'durable',
    ]);
    for (const workload of ['throughput:', 'memory:', 'latency:', 'timers:', 'durable:']) {
      expect(stdout).toContain(workload);
    }
    const goals = report.results.flatMap((result) => result.goals.map((goal) => goal.name));
    expect(goals).toEqual([
      'JobScheduler vs p-queue',
      'JobScheduler vs p-queue with priority',
      'priorityMergeMap vs raw loop',
      'priorityMergeMap vs rxjs mergeMap',
      'JobScheduler bytes per waiting job',
      expect.stringMatching(/^Heap after \d+ jobs vs after \d+$/),
      'JobScheduler submit-to-start p99',
      'Cron fire lateness p99',
      'CPU between marks',
      "sqliteStore 'normal' throughput",
    ]);
    for (const goal of goals) expect(stdout).toContain(goal);
    // Every figure was measured: a ratio, not a speed, is what a smoke run can check.
    for (const result of report.results) {
      for (const figure of result.figures) expect(Number.isFinite(figure.value)).toBe(true);
      for (const goal of result.goals) expect(Number.isFinite(goal.ratio)).toBe(true);
    }
  }, 90_000);
});
