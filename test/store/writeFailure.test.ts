import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { TestScheduler } from 'rxjs/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JobScheduler } from '../../src/index.js';
import { type SqliteStoreOptions, StoreWriteError, sqliteStore } from '../../src/sqlite.js';
import { liveDurable, tempDbPath } from './durableHarness.js';

/**
 * A full disk, as the driver reports one: every statement run fails while it lasts, or with
 * `deletes`, only the DELETEs.
 */
const disk = { full: false, deletes: false };
const statement = Object.getPrototypeOf(new Database(':memory:').prepare('SELECT 1'));
const run = statement.run;
statement.run = function (this: { source: string }, ...args: unknown[]) {
  if (disk.full || (disk.deletes && this.source.startsWith('DELETE'))) {
    throw new Database.SqliteError('database or disk is full', 'SQLITE_FULL');
  }
  return run.apply(this, args);
};

afterEach(() => {
  disk.full = false;
  disk.deletes = false;
  vi.restoreAllMocks();
});

type Store = ReturnType<typeof sqliteStore>;

function make(options: SqliteStoreOptions | Store, retention = 1000): JobScheduler {
  const store = 'durable' in options ? options : sqliteStore(options);
  const scheduler = new JobScheduler({ store, retention });
  scheduler.define('send', (to: string) => `sent to ${to}`);
  return scheduler;
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
const later = () => ({ type: 'once' as const, startTime: Date.now() + 3_600_000 });

/** The virtual times at which a write was tried while the disk was full, until `restore()`. */
function recordTries(testScheduler: TestScheduler): { tries: number[]; restore: () => void } {
  const tries: number[] = [];
  const failing = statement.run;
  // Each try fails at its first statement.
  statement.run = function (this: unknown, ...args: unknown[]) {
    if (disk.full) tries.push(testScheduler.now());
    return failing.apply(this, args);
  };
  return { tries, restore: () => (statement.run = failing) };
}

function rowIds(path: string): string[] {
  const db = new Database(path, { readonly: true });
  const ids = db.prepare('SELECT id FROM jobs ORDER BY seq').pluck().all() as string[];
  db.close();
  return ids;
}

describe('a durable store whose disk is full', () => {
  it('reports a background write that failed, and writes what it kept once it can', async () => {
    const path = tempDbPath();
    const errors: StoreWriteError[] = [];
    const scheduler = make({ path, onWriteError: (error) => errors.push(error) });
    await scheduler.start();
    disk.full = true;
    await expect(
      scheduler.submitJob({ id: 'a', name: 'send', payload: 'ada' }).result,
    ).resolves.toBe('sent to ada');
    await nextTurn();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(StoreWriteError);
    expect(errors[0]?.message).toBe(
      `Cannot write to the job store at '${path}': database or disk is full. The jobs accepted since are kept in '${path}-intake' and recovered at the next start()`,
    );
    expect(errors[0]?.cause).toMatchObject({ code: 'SQLITE_FULL' });
    expect(existsSync(`${path}-intake`)).toBe(true);
    // Reported once for the whole outage.
    await scheduler.submitJob({ id: 'b', name: 'send', payload: 'grace' }).result;
    await nextTurn();
    expect(errors).toHaveLength(1);

    disk.full = false;
    await scheduler.stop();
    expect(existsSync(`${path}-intake`)).toBe(false);

    const next = make({ path });
    await next.start();
    expect(next.getJobStatus('a')).toMatchObject({ status: 'completed', result: 'sent to ada' });
    expect(next.getJobStatus('b')).toMatchObject({ status: 'completed', result: 'sent to grace' });
    await next.stop();
  });

  it('warns through the process by default', async () => {
    const warned = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const scheduler = make({ path: tempDbPath() });
    await scheduler.start();
    disk.full = true;
    await scheduler.submitJob({ name: 'send', payload: 'ada' }).result;
    await nextTurn();
    expect(warned).toHaveBeenCalledWith(expect.any(StoreWriteError));
    disk.full = false;
    await scheduler.stop();
  });

  it('throws from a flush asked for', async () => {
    const store = sqliteStore({ path: tempDbPath(), onWriteError: () => {} });
    const scheduler = new JobScheduler({ store });
    scheduler.define('send', (to: string) => to);
    await scheduler.start();
    scheduler.submitJob({ name: 'send', payload: 'ada' });
    disk.full = true;
    expect(() => store.flush()).toThrow(StoreWriteError);
    disk.full = false;
    await scheduler.stop();
  });

  it('rejects stop() when the last write fails, stops all the same, and recovers at the next start', async () => {
    const path = tempDbPath();
    const scheduler = make({ path, onWriteError: () => {} });
    await scheduler.start();
    let completed = false;
    scheduler.events$.subscribe({ complete: () => (completed = true) });
    disk.full = true;
    const later = { type: 'once' as const, startTime: Date.now() + 3_600_000 };
    scheduler.submitJob({ id: 'later', name: 'send', payload: 'ada', schedule: later });
    const error = await scheduler.stop().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StoreWriteError);
    // The stop's report is still given, on the error.
    expect((error as StoreWriteError).stopReport).toEqual({
      cancelled: [],
      kept: [{ id: 'later', name: 'send', status: 'pending' }],
      finishedDuringStop: 0,
    });
    expect(completed).toBe(true);
    expect(existsSync(`${path}-intake`)).toBe(true);

    disk.full = false;
    const next = make({ path });
    await next.start();
    // Never written to the database: the job comes back from the intake file.
    expect(next.getJobStatus('later')?.status).toBe('pending');
    await expect(next.stop()).resolves.toMatchObject({ kept: [{ id: 'later' }] });
  });

  it('tries again on its own after a second, with no transition to set it off', async () => {
    const path = tempDbPath();
    const { scheduler, testScheduler, errors } = liveDurable(path);
    disk.full = true;
    scheduler.submitJob({ id: 'a', name: 'send', payload: 'ada' });
    testScheduler.flush();
    await nextTurn();
    expect(errors).toHaveLength(1);
    // The scheduler is idle now; the disk has room again, and only the retry can write.
    disk.full = false;
    const intake = () => readFileSync(`${path}-intake`, 'utf8').split('\n').filter(Boolean);
    expect(intake()).toHaveLength(2);
    testScheduler.maxFrames = 999;
    testScheduler.flush();
    expect(intake()).toHaveLength(2);
    testScheduler.maxFrames = 1000;
    testScheduler.flush();
    // Written: the file is back to its header.
    expect(intake()).toHaveLength(1);
    await scheduler.stop();
    expect(rowIds(path)).toEqual(['a']);
  });

  it('waits twice as long before each retry, and reports each outage once', async () => {
    const { scheduler, testScheduler, errors } = liveDurable();
    const { tries, restore } = recordTries(testScheduler);
    try {
      disk.full = true;
      scheduler.submitJob({ name: 'send', payload: 'ada' });
      testScheduler.flush();
      await nextTurn();
      testScheduler.maxFrames = 8_000;
      testScheduler.flush();
      expect(tries).toEqual([0, 1000, 3000, 7000]);
      expect(errors).toHaveLength(1);
      // The next try, at 15 s, succeeds; a later outage is a new one.
      disk.full = false;
      testScheduler.maxFrames = 16_000;
      testScheduler.flush();
      disk.full = true;
      scheduler.submitJob({ name: 'send', payload: 'grace' });
      testScheduler.flush();
      await nextTurn();
      expect(errors).toHaveLength(2);
      expect(tries.at(-1)).toBe(testScheduler.now());
    } finally {
      restore();
      disk.full = false;
    }
    await scheduler.stop();
  });

  it('waits a second before the first retry, even after a flush asked for failed', async () => {
    const { scheduler, testScheduler, store } = liveDurable();
    const { tries, restore } = recordTries(testScheduler);
    try {
      disk.full = true;
      scheduler.submitJob({ name: 'send', payload: 'ada', schedule: later() });
      expect(() => store.flush()).toThrow(StoreWriteError);
      // The turn's own flush is still queued: one more event must not queue a second.
      scheduler.submitJob({ name: 'send', payload: 'grace', schedule: later() });
      await nextTurn();
      testScheduler.maxFrames = 1_000;
      testScheduler.flush();
      expect(tries).toEqual([0, 0, 1000]);
    } finally {
      restore();
      disk.full = false;
    }
    await scheduler.stop();
  });

  it('opens a database whose first write fails, and writes it later', async () => {
    const path = tempDbPath();
    const first = make({ path });
    await first.start();
    for (const to of ['a', 'b', 'c'])
      await first.submitJob({ id: to, name: 'send', payload: to }).result;
    await first.stop();
    // With `retention: 1`, opening the store deletes two of those rows: that write fails.
    const errors: StoreWriteError[] = [];
    const second = make({ path, onWriteError: (error) => errors.push(error) }, 1);
    disk.deletes = true;
    await expect(second.start()).resolves.toBeUndefined();
    expect(errors).toHaveLength(1);
    disk.deletes = false;
    await second.stop();
    expect(rowIds(path)).toEqual(['c']);
    // Closed and unlocked: another scheduler opens it.
    const third = make({ path });
    await expect(third.start()).resolves.toBeUndefined();
    await third.stop();
  });

  it('starts afresh from the files when opened again after its last write failed', async () => {
    const path = tempDbPath();
    const store = sqliteStore({ path, onWriteError: () => {} });
    const first = make(store);
    await first.start();
    first.submitJob({ id: 'written', name: 'send', payload: 'x', schedule: later() });
    await nextTurn();
    disk.full = true;
    first.submitJob({ id: 'kept', name: 'send', payload: 'ada', schedule: later() });
    await expect(first.stop()).rejects.toThrow(StoreWriteError);
    disk.full = false;
    const second = make(store);
    await second.start();
    expect(second.getJobStatus('kept')?.status).toBe('pending');
    await expect(second.stop()).resolves.toMatchObject({
      kept: [{ id: 'written' }, { id: 'kept' }],
    });
    expect(rowIds(path)).toEqual(['written', 'kept']);
  });

  it('warns, and goes on, when onWriteError throws', async () => {
    const warned = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const scheduler = make({
      path: tempDbPath(),
      onWriteError: () => {
        throw new Error('pager is down');
      },
    });
    await scheduler.start();
    disk.full = true;
    await scheduler.submitJob({ name: 'send', payload: 'ada' }).result;
    await nextTurn();
    expect(warned).toHaveBeenCalledWith(expect.objectContaining({ message: 'pager is down' }));
    disk.full = false;
    await scheduler.stop();
  });

  it('loses no accepted job when the disk fills up for real, in a process of its own', async () => {
    const path = tempDbPath();
    // 64 KiB per file: the database's WAL fills up first, then the intake file, no longer
    // emptied by a flush.
    const worker = join(import.meta.dirname, 'diskFullWorker.ts');
    const child = spawnSync(
      'bash',
      ['-c', 'ulimit -f 64; exec "$0" --import tsx "$@"', process.execPath, worker, path],
      { encoding: 'utf8' },
    );
    expect(child.stderr).toBe('');
    expect(child.signal).toBe('SIGKILL');
    const { accepted, writeErrors, submitError } = JSON.parse(child.stdout) as {
      accepted: number;
      writeErrors: string[];
      submitError: string;
    };
    expect(writeErrors).toHaveLength(1);
    expect(writeErrors[0]).toMatch(/^Cannot write to the job store at '.*jobs\.db': /);
    expect(submitError).toMatch(/EFBIG/);
    expect(accepted).toBeGreaterThan(20);
    const next = make({ path });
    await next.start();
    const ids = Array.from({ length: accepted }, (_, index) => `fill-${index}`);
    expect(next.listJobs().map((job) => job.id)).toEqual(ids);
    await next.stop();
  });

  it('checks the option', () => {
    expect(() => sqliteStore({ path: 'x.db', onWriteError: 3 as never })).toThrow(
      /`onWriteError`.*\(number\)/,
    );
  });
});
