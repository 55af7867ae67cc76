// The example /metrics server, run as a user would: a child process on an ephemeral loopback
// port, scraped over HTTP once its workload has settled, and compared with the getMetrics()
// numbers it prints. Real time, because what is checked is the process and the socket.
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { scrape } from '../helpers/exposition.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Resolves with the first match of `pattern` in everything the stream has said, or rejects. */
function waitFor(output: { text: string }, stream: Readable, pattern: RegExp, ms: number) {
  return new Promise<RegExpMatchArray>((resolve, reject) => {
    const check = () => {
      const match = output.text.match(pattern);
      if (match === null) return;
      clearTimeout(timer);
      stream.off('data', check);
      resolve(match);
    };
    const timer = setTimeout(() => {
      stream.off('data', check);
      reject(new Error(`No ${pattern} within ${ms} ms; output so far:\n${output.text}`));
    }, ms);
    stream.on('data', check);
    check();
  });
}

describe('examples/metrics-server.ts', () => {
  let child: ChildProcessByStdio<null, Readable, Readable> | undefined;
  afterAll(() => {
    if (child?.exitCode === null) child.kill('SIGKILL');
  });

  it('serves /metrics on 127.0.0.1 with values that match getMetrics(), and stops on SIGTERM', async () => {
    const server = spawn('node', ['--import', 'tsx', 'examples/metrics-server.ts'], {
      cwd: root,
      env: { ...process.env, RXJOBS_METRICS_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = server;
    const stdout = { text: '' };
    const stderr = { text: '' };
    server.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout.text += chunk;
    });
    server.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr.text += chunk;
    });

    const [, url = ''] = await waitFor(
      stdout,
      server.stdout,
      /^Serving Prometheus metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)$/m,
      20_000,
    );
    const [, settled = ''] = await waitFor(
      stdout,
      server.stdout,
      /^Workload settled: (.*)$/m,
      20_000,
    );
    const printed = Object.fromEntries(
      settled.split(' ').map((pair) => {
        const [key = '', value = ''] = pair.split('=');
        return [key, Number(value)];
      }),
    );

    const exposition = await scrape(url);
    expect({
      submitted: exposition.sum('rxjobs_jobs_submitted_total'),
      completed: exposition.sum('rxjobs_runs_completed_total'),
      failed: exposition.sum('rxjobs_runs_failed_total'),
      retried: exposition.sum('rxjobs_attempts_retried_total'),
      timed_out: exposition.sum('rxjobs_attempts_timed_out_total'),
      skipped: exposition.sum('rxjobs_runs_skipped_total'),
      cancelled: exposition.sum('rxjobs_jobs_cancelled_total'),
      queued: exposition.sum('rxjobs_jobs_queued'),
      running: exposition.value('rxjobs_jobs_running'),
      busy: exposition.value('rxjobs_workers_busy'),
      max_workers: exposition.value('rxjobs_workers_max'),
    }).toEqual({
      submitted: printed.submitted,
      completed: printed.completed,
      failed: printed.failed,
      retried: printed.retried,
      timed_out: printed.timed_out,
      skipped: printed.skipped,
      cancelled: printed.cancelled,
      queued: printed.queued,
      running: printed.running,
      busy: printed.busy,
      max_workers: printed.max_workers,
    });
    // The workload has a retried job, a timed-out one and skipped fires: none of these is 0.
    expect(printed).toMatchObject({ submitted: 15, retried: 2, timed_out: 1, max_workers: 3 });
    expect(printed.skipped).toBeGreaterThan(0);
    const execCount = exposition.sum('rxjobs_job_exec_seconds_count');
    expect((exposition.sum('rxjobs_job_exec_seconds_sum') / execCount) * 1000).toBeCloseTo(
      printed.avg_exec_ms ?? Number.NaN,
      6,
    );
    expect((await fetch(url.replace('/metrics', '/nope'))).status).toBe(404);

    server.kill('SIGTERM');
    const [code] = (await once(server, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(stdout.text).toMatch(/^Stopped\.$/m);
    expect(stderr.text).toBe('');
  }, 45_000);
});
