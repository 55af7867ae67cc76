// The demo as a user runs it, in a real 80x24 pseudo-terminal (tmux): the dashboard must redraw
// in place, show every panel, and end with the stop report and the summary table. Real time,
// because what is checked is the terminal; every wait polls with a generous timeout.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { TmuxSession } from '../helpers/tmux.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const startScript: string = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')).scripts.start;
const quotedRoot = `'${root.replaceAll("'", "'\\''")}'`;
const HEADER = /rxjobs demo · 4 workers · /g;
const RUNNING = /rxjobs demo · 4 workers · \d+\.\d s of \d+ s · Ctrl-C stops gracefully/;

const sessions: TmuxSession[] = [];
afterAll(() => {
  for (const session of sessions) session.kill();
});

function startDemo(name: string, command: string, seconds: number): TmuxSession {
  // `sleep` keeps the pane, and so its last screen, until the test has read it.
  const session = TmuxSession.start(name, {
    width: 80,
    height: 24,
    script: `cd ${quotedRoot} && export npm_config_update_notifier=false RXJOBS_DEMO_SECONDS=${seconds} && ${command}; echo EXIT:$?; sleep 120`,
  });
  sessions.push(session);
  return session;
}

/** Every panel of a running frame. */
function expectPanels(screen: string): void {
  expect(screen).toMatch(RUNNING);
  expect(screen).toMatch(/Queue by priority +Workers +[■□]{4} \d\/4 busy/);
  for (const level of ['critical', 'high', 'normal', 'low']) {
    expect(screen).toMatch(new RegExp(`^ {3}${level} +▮* +\\d+( |$)`, 'm'));
  }
  expect(screen).toMatch(/Throughput +\d+\.\d runs\/s/);
  expect(screen).toMatch(/Exec +p50 \S+ m?s +p95 \S+ m?s/);
  expect(screen).toMatch(/Wait +p95 \S+ m?s/);
  expect(screen).toMatch(/Completed \d+ +Failed \d+ +Retried \d+ +Timed out \d+/);
  expect(screen).toMatch(/Batch +import_csv [█░]{30} \d+\/50 children/);
  expect(screen).toMatch(/Cron +heartbeat every 2 s · run \d+/);
  expect(screen).toMatch(/Recent events/);
}

function expectSummary(screen: string): void {
  expect(screen).toMatch(/^Stop report$/m);
  expect(screen).toMatch(/^ {2}cancelled: \d+ jobs?$/m);
  expect(screen).toMatch(/^ job +completed +failed +retried +timed out +cancelled +avg exec$/m);
  // The total row comes from getMetrics(), the rows above it from events$: they must agree.
  const rows = [
    ...screen.matchAll(/^ ([a-z_]+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) +\S+( ms| s)?$/gm),
  ];
  const total = rows.find((row) => row[1] === 'total');
  const perName = rows.filter((row) => row[1] !== 'total');
  expect(total).toBeDefined();
  expect(perName.length).toBeGreaterThanOrEqual(3);
  for (const column of [2, 3, 4, 5, 6]) {
    const sum = perName.reduce((acc, row) => acc + Number(row[column]), 0);
    expect(sum).toBe(Number(total?.[column]));
  }
}

describe('npm start on a terminal', () => {
  it('redraws a dashboard in place, then prints the summary table and exits 0', async () => {
    const session = startDemo('run', 'npm start', 4);
    const frames: string[] = [];
    const histories: number[] = [];
    // A few frames while it runs: poll for the next one that differs from the last.
    let screen = await session.waitFor(RUNNING, 30_000);
    while (RUNNING.test(screen) && frames.length < 4) {
      if (frames.at(-1) !== screen) {
        frames.push(screen);
        histories.push(session.historySize());
      }
      await new Promise((resolve) => setTimeout(resolve, 400));
      screen = session.capture();
    }
    expect(frames.length).toBeGreaterThanOrEqual(2);
    for (const frame of frames) {
      expectPanels(frame);
      // One dashboard on screen, never a second one printed below the first.
      expect(frame.match(HEADER)).toHaveLength(1);
      for (const line of frame.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    }
    // Nothing scrolled away while it redrew: the frames replaced each other in place.
    expect(new Set(histories).size).toBe(1);

    const end = await session.waitFor(/^EXIT:\d+$/m, 40_000, { history: true });
    expect(end).toMatch(/^EXIT:0$/m);
    // The whole scrollback holds one dashboard: its last frame, kept above the summary.
    expect(end.match(HEADER)).toHaveLength(1);
    expect(end).toMatch(/rxjobs demo · 4 workers · stopping \(4 s are up\)/);
    expect(end).toMatch(/^Stopping \(4 s are up\): /m);
    expectSummary(end);
  }, 90_000);

  it('stops gracefully on Ctrl-C: running jobs finish, then the report, the summary, exit 0', async () => {
    // The start script's own command: npm's `sh -c` wrapper dies of the SIGINT and npm then
    // exits 130 whatever the demo does, so the demo's own exit code is asserted here.
    const session = startDemo('interrupt', startScript, 120);
    await session.waitFor(/Completed [1-9]\d/, 30_000);
    session.sendKeys('C-c');
    const end = await session.waitFor(/^EXIT:\d+$/m, 30_000, { history: true });
    expect(end).toMatch(/^EXIT:0$/m);
    expect(end).toMatch(/rxjobs demo · 4 workers · stopping \(Ctrl-C\)/);
    expect(end).toMatch(
      /^Stopping \(Ctrl-C\): (nothing is running|\d+ running jobs? gets? 3 s to finish)\.$/m,
    );
    expect(end).toMatch(/^ {2}finished during the stop: \d+ jobs?$/m);
    // The cron job never ends by itself, so a stop always cancels it.
    expect(end).toMatch(/^ +1 × heartbeat \(was (pending|queued|running)\)$/m);
    expectSummary(end);
  }, 90_000);
});
