// Runs every example as a user would, in real time: the few wall-clock tests the project allows,
// because what they check is that each file runs as it is and ends by itself.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

const examples: readonly (readonly [file: string, line: RegExp])[] = [
  ['basic.ts', /^Processed: user_data$/m],
  ['scheduled.ts', /^ {2}completed +at \S+ \(\+5 min\)$/m],
  ['retry-policy.ts', /^result: Processed: sensitive_data on attempt 3$/m],
  ['cron.ts', /^run 3 completed at 2026-03-11T00:00:02\.000Z: report_data for 2026-03-11$/m],
  ['monitoring.ts', /^listJobs\('failed'\): job_124 send_email \(3 attempts\)$/m],
  ['marble-testing.ts', /^marble test passed$/m],
];

describe('examples', () => {
  it.each(examples)(
    '%s runs to the end and exits 0',
    async (file, line) => {
      // execFile rejects on a non-zero exit code or the timeout, which fails the test.
      const { stdout, stderr } = await run('node', ['--import', 'tsx', `examples/${file}`], {
        cwd: root,
        timeout: 30_000,
      });
      expect(stderr).toBe('');
      expect(stdout).toMatch(line);
    },
    35_000,
  );
});
