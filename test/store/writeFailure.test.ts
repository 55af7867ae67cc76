import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JobScheduler } from '../../src/index.js';
import { type SqliteStoreOptions, StoreWriteError, sqliteStore } from '../../src/sqlite.js';
import { tempDbPath } from './durableHarness.js';

/** A full disk, as the driver reports one: every statement run fails while it lasts. */
const disk = { full: false };
const statement = Object.getPrototypeOf(new Database(':memory:').prepare('SELECT 1'));
const run = statement.run;
statement.run = function (this: unknown, ...args: unknown[]) {
  if (disk.full) throw new Database.SqliteError('database or disk is full', 'SQLITE_FULL');
  return run.apply(this, args);
};

afterEach(() => {
  disk.full = false;
  vi.restoreAllMocks();
});

function make(options: SqliteStoreOptions): JobScheduler {
  const scheduler = new JobScheduler({ store: sqliteStore(options) });
  scheduler.define('send', (to: string) => `sent to ${to}`);
  return scheduler;
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

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
    // Tried again with each later transition, and reported once for the whole outage.
    await scheduler.submitJob({ id: 'b', name: 'send', payload: 'grace' }).result;
    await nextTurn();
    expect(errors).toHaveLength(1);

    disk.full = false;
    await scheduler.submitJob({ id: 'c', name: 'send', payload: 'alan' }).result;
    await nextTurn();
    // A new outage is reported again.
    disk.full = true;
    await scheduler.submitJob({ id: 'd', name: 'send', payload: 'edsger' }).result;
    await nextTurn();
    expect(errors).toHaveLength(2);
    disk.full = false;
    await scheduler.stop();
    expect(existsSync(`${path}-intake`)).toBe(false);

    const next = make({ path });
    await next.start();
    expect(next.getJobStatus('a')).toMatchObject({ status: 'completed', result: 'sent to ada' });
    for (const [id, to] of [
      ['b', 'grace'],
      ['c', 'alan'],
      ['d', 'edsger'],
    ]) {
      expect(next.getJobStatus(id as string)).toMatchObject({ result: `sent to ${to}` });
    }
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
    await expect(scheduler.stop()).rejects.toThrow(StoreWriteError);
    expect(completed).toBe(true);
    expect(existsSync(`${path}-intake`)).toBe(true);

    disk.full = false;
    const next = make({ path });
    await next.start();
    // The cancellation by stop() was never written: the job comes back as after a crash.
    expect(next.getJobStatus('later')?.status).toBe('pending');
    await expect(next.stop()).resolves.toMatchObject({ cancelled: [{ id: 'later' }] });
  });

  it('checks the option', () => {
    expect(() => sqliteStore({ path: 'x.db', onWriteError: 3 as never })).toThrow(
      /`onWriteError`.*\(number\)/,
    );
  });
});
