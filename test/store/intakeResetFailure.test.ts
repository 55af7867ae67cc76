// A write that fails after the database committed: the intake file's reset, its header write.
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { expect, it, vi } from 'vitest';
import { liveDurable, tempDbPath } from './durableHarness.js';

const fault = { header: false };
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const writeSync = (...args: Parameters<typeof fs.writeSync>) => {
    if (fault.header && typeof args[1] === 'string' && args[1].includes('rxjobsIntake')) {
      fault.header = false;
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }
    return (fs.writeSync as (...a: unknown[]) => number)(...args);
  };
  return { ...fs, default: { ...fs, writeSync }, writeSync };
});

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

it('ends the outage a failed reset of the intake file starts, and goes on writing', async () => {
  const path = tempDbPath();
  const { scheduler, testScheduler, errors } = liveDurable(path);
  fault.header = true;
  scheduler.submitJob({ id: 'a', name: 'send', payload: 'ada' });
  testScheduler.flush();
  await nextTurn();
  // The commit held; the reset of the intake file after it did not.
  expect(errors).toHaveLength(1);
  // The retry finds nothing left to write: the outage is over.
  testScheduler.maxFrames = 1_000;
  testScheduler.flush();
  scheduler.submitJob({ id: 'b', name: 'send', payload: 'grace' });
  testScheduler.flush();
  await nextTurn();
  // Written by the flush of its turn: the intake file is back to its header.
  const intake = readFileSync(`${path}-intake`, 'utf8').split('\n').filter(Boolean);
  expect(intake).toHaveLength(1);
  await scheduler.stop();
  const db = new Database(path, { readonly: true });
  expect(db.prepare('SELECT id, status FROM jobs ORDER BY seq').raw().all()).toEqual([
    ['a', 'completed'],
    ['b', 'completed'],
  ]);
  db.close();
});
