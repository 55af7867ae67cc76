// The demo without a terminal, as in a pipe or a CI log: one plain line per second, no escape
// codes, then the stop report and the summary table, and exit code 0.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SECONDS = 3;
const LINE = new RegExp(
  [
    String.raw`^t=(\d+)s`,
    String.raw`queued=critical:\d+,high:\d+,normal:\d+,low:\d+`,
    String.raw`busy=\d/4`,
    String.raw`throughput=\d+\.\d/s`,
    String.raw`exec_p50=\d+ms exec_p95=\d+ms wait_p95=\d+ms`,
    String.raw`completed=\d+ failed=\d+ retried=\d+ timed_out=\d+`,
    String.raw`batch=\d+/50`,
    String.raw`cron_next=(\d\d:\d\d:\d\d|-)$`,
  ].join(' '),
);

describe('the demo without a terminal', () => {
  it('prints one plain line per second, then the report and the summary, and exits 0', async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CI: '1',
      RXJOBS_DEMO_SECONDS: String(SECONDS),
    };
    delete env.FORCE_COLOR;
    const demo = spawn('node', ['--import', 'tsx', 'examples/demo.ts'], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    demo.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    demo.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const [code] = (await once(demo, 'exit')) as [number | null];

    expect(stderr).toBe('');
    expect(code).toBe(0);
    // CI is set, which makes picocolors colour by default: the output must stay plain anyway.
    expect(stdout.includes('\u001b')).toBe(false);

    const lines = stdout.split('\n');
    const progress = lines.filter((line) => line.startsWith('t='));
    for (const line of progress) expect(line).toMatch(LINE);
    // One a second, each labelled with the whole seconds since the start. The last may race
    // the stop by a few ms, and a loaded machine may round a late one up.
    const seconds = progress.map((line) => Number(LINE.exec(line)?.[1]));
    expect(seconds.length).toBeGreaterThanOrEqual(SECONDS - 1);
    expect(seconds.length).toBeLessThanOrEqual(SECONDS);
    expect(seconds[0]).toBeGreaterThanOrEqual(1);
    expect(seconds.at(-1)).toBeLessThanOrEqual(SECONDS + 1);
    for (const [index, second] of seconds.entries()) {
      if (index > 0) expect(second).toBeGreaterThan(seconds[index - 1] ?? 0);
    }

    expect(stdout).toMatch(new RegExp(`^Stopping \\(${SECONDS} s are up\\): `, 'm'));
    expect(stdout).toMatch(/^Stop report$/m);
    expect(stdout).toMatch(/^ job +completed +failed +retried +timed out +cancelled +avg exec$/m);
    expect(stdout).toMatch(/^ total +\d+ +\d+ +\d+ +\d+ +\d+ +\S+/m);
  }, 45_000);
});
