import { closeSync, fdatasyncSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { decode, encode } from './durableCodec.js';
import { StoreOpenError } from './storeOpenError.js';
import type { JobDefinition, JobSnapshot } from './types.js';

/** A job as accepted: what recovery needs to put it in the database. */
export interface AcceptedJob {
  readonly definition: JobDefinition;
  readonly snapshot: JobSnapshot;
}

/** One `submitJob`: a job, or a batch with its children, written and read back whole. */
export interface IntakeRecord {
  /** Counts up across the database's life; the database records the last one it holds. */
  readonly seq: number;
  readonly jobs: readonly AcceptedJob[];
}

interface IntakeHeader {
  readonly rxjobsIntake: 1;
  /** The `database_id` of the database this file belongs to. */
  readonly database: string;
}

/**
 * An append-only file beside the database that holds each accepted job from the moment
 * `submitJob` returns until the next flush has moved it into the database. One `write` per
 * submission is about a fifth of the cost of a SQLite commit, and a job that ends and falls out
 * of `retention` before the flush never reaches the database at all.
 *
 * One line per record, in JSON, which escapes every newline inside it. A record cut short by a
 * crash in the middle of its write was never acknowledged, and is ignored whole: a batch is one
 * record, so it comes back with all its children or not at all.
 */
export class IntakeLog {
  readonly #path: string;
  readonly #header: string;
  readonly #sync: boolean;
  #fd: number;
  #empty = true;

  /** Starts the file afresh, for `database`; read what it held first with {@link readIntake}. */
  constructor(path: string, database: string, sync: boolean) {
    this.#path = path;
    this.#header = `${JSON.stringify({ rxjobsIntake: 1, database } satisfies IntakeHeader)}\n`;
    this.#sync = sync;
    this.#fd = openSync(path, 'w');
    this.#write(this.#header);
  }

  /** True when nothing was appended since the file was last started afresh. */
  get empty(): boolean {
    return this.#empty;
  }

  /** On disk (in the OS, or on the device when `sync`) when this returns. */
  append(record: IntakeRecord): void {
    // Encoded piece by piece: whole, the record is deeper than encode's fast path looks, and
    // every key would go through the replacer.
    let jobs = '';
    for (const { definition, snapshot } of record.jobs) {
      const job = `{"definition":${encode(definition)},"snapshot":${encode(snapshot)}}`;
      jobs = jobs === '' ? job : `${jobs},${job}`;
    }
    this.#write(`{"seq":${record.seq},"jobs":[${jobs}]}\n`);
    this.#empty = false;
  }

  /** Forgets every record: the database holds them now. */
  reset(): void {
    closeSync(this.#fd);
    this.#fd = openSync(this.#path, 'w');
    this.#write(this.#header);
    this.#empty = true;
  }

  /** Closes the file; removes it when the database holds everything it held. */
  close(remove: boolean): void {
    closeSync(this.#fd);
    if (remove) rmSync(this.#path, { force: true });
  }

  #write(text: string): void {
    writeSync(this.#fd, text);
    if (this.#sync) fdatasyncSync(this.#fd);
  }
}

/**
 * The records a crashed process left in the file at `path`, oldest first; none when there is no
 * file. A file that belongs to another database (`database` is undefined for one that has no id
 * yet), or a record that is not the last and does not parse, is refused: guessing would lose or
 * invent jobs.
 */
export function readIntake(path: string, database: string | undefined): IntakeRecord[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return [];
    throw new StoreOpenError(path, 'unreadable', (error as Error).message, { cause: error });
  }
  const lines = text.split('\n');
  // Whatever follows the last newline is a write the crash cut short.
  lines.pop();
  const [header, ...records] = lines;
  if (header === undefined) return [];
  const owner = parseLine(header) as Partial<IntakeHeader> | undefined;
  if (owner?.rxjobsIntake !== 1) {
    throw new StoreOpenError(path, 'unreadable', 'the file is not an rxjobs intake file');
  }
  if (owner.database !== database) {
    throw new StoreOpenError(
      path,
      'unreadable',
      `the file belongs to another database (${String(owner.database)}); move it away if that database is gone`,
    );
  }
  return records.map((line, index) => {
    const record = parseLine(line) as IntakeRecord | undefined;
    if (record === undefined || !Number.isInteger(record.seq) || !Array.isArray(record.jobs)) {
      throw new StoreOpenError(path, 'unreadable', `record ${index + 1} does not parse`);
    }
    return record;
  });
}

function parseLine(line: string): unknown {
  try {
    return decode(line);
  } catch {
    return undefined;
  }
}
