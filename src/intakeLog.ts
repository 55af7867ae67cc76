import {
  closeSync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { decode, encodeDefinition } from './durableCodec.js';
import { pendingSnapshot } from './jobEvents.js';
import type { AcceptedJob } from './jobStore.js';
import { StoreOpenError } from './storeOpenError.js';
import type { JobDefinition } from './types.js';

/** One job of a record as it is on disk. */
interface WrittenJob {
  readonly definition: JobDefinition;
  readonly createdAt: number;
  readonly nextRunAt?: number;
}

/** One `submitJob`, read back: a job, or a batch with its children. */
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
 * record, so it comes back with all its children or not at all. A write that fails is cut back
 * off the file, so no torn record is ever followed by another.
 */
export class IntakeLog {
  readonly #header: string;
  readonly #sync: boolean;
  readonly #path: string;
  readonly #fd: number;
  /** Bytes in the file: where it is cut back to when a write fails. */
  #size = 0;
  /** Why a failed write could not be cut back off the file, which is then written no more. */
  #broken: unknown;
  /** Records appended since the file was last started afresh. */
  #records = 0;

  /** Opens the file at `path` for appending, or creates it; `reset` starts it for `database`. */
  constructor(path: string, database: string, sync: boolean) {
    this.#path = path;
    this.#header = `${headerLine(database)}\n`;
    this.#sync = sync;
    // Read too, through the same descriptor: the flush reads jobs back even if the path is gone.
    this.#fd = openSync(path, 'a+');
    // A file that a power loss could forget ever existed is no place for accepted jobs.
    if (sync) syncDirectory(path);
  }

  /** True when nothing was appended since the file was last started afresh. */
  get empty(): boolean {
    return this.#records === 0;
  }

  /**
   * On disk (in the OS; on the device too when `sync`) when it returns; throws if not. Returns
   * where its jobs are, for {@link IntakeReadBack}: the store keeps that rather than a copy of
   * every job it accepts until the next flush.
   */
  append(seq: number, jobs: readonly AcceptedJob[]): number {
    let line = '';
    for (const { definition, snapshot } of jobs) {
      // Its definition, and what its pending snapshot adds to it (see `pendingSnapshot`).
      // Scheduler times are finite numbers, which JSON writes as JavaScript prints them.
      const { createdAt, nextRunAt } = snapshot;
      const next = nextRunAt === undefined ? '' : `,"nextRunAt":${nextRunAt}`;
      const job = `{"definition":${encodeDefinition(definition)},"createdAt":${createdAt}${next}}`;
      line = line === '' ? job : `${line},${job}`;
    }
    // A reset whose header write failed left the file empty: the header comes first.
    if (this.#size === 0) this.#write(this.#header);
    const start = this.#size;
    this.#write(`{"seq":${seq},"jobs":[${line}]}\n`);
    this.#records += 1;
    // A batch's jobs share their record, which is told apart by its sign.
    return jobs.length === 1 ? start : -start - 1;
  }

  /**
   * What the file holds now, to read back jobs accepted since the last reset: `wanted` of them.
   * A few out of many are read a record at a time (most jobs end before the flush, and a file of
   * a burst of them is megabytes); more than that, in one read of the whole file.
   */
  readBack(wanted: number): IntakeReadBack {
    if (wanted * 8 < this.#records) return new IntakeReadBack((start) => this.#readLine(start));
    const file = this.#read(0, this.#size);
    return new IntakeReadBack((start) => file.subarray(start, file.indexOf(10, start)));
  }

  /** Forgets every record, which the database holds now, and starts the file afresh. */
  reset(): void {
    ftruncateSync(this.#fd, 0);
    this.#size = 0;
    this.#records = 0;
    this.#write(this.#header);
  }

  /** The record that starts at `start`, without its newline. */
  #readLine(start: number): Buffer {
    // A lone job's record is a few hundred bytes, unless its payload is large.
    for (let length = 1024; ; length *= 8) {
      const chunk = this.#read(start, Math.min(length, this.#size - start));
      const end = chunk.indexOf(10);
      if (end >= 0) return chunk.subarray(0, end);
      if (start + chunk.length === this.#size) {
        throw new Error(`The intake record at byte ${start} has no end`);
      }
    }
  }

  #read(start: number, length: number): Buffer {
    const bytes = Buffer.allocUnsafe(length);
    for (let done = 0; done < length; ) {
      const read = readSync(this.#fd, bytes, done, length - done, start + done);
      if (read === 0) throw new Error(`The intake file ends at byte ${start + done}`);
      done += read;
    }
    return bytes;
  }

  /** Closes the file; removes it when the database holds everything it held. */
  close(remove: boolean): void {
    closeSync(this.#fd);
    if (remove) rmSync(this.#path, { force: true });
  }

  #write(text: string): void {
    if (this.#broken !== undefined) {
      throw new Error('The intake file could not be cut back after a failed write', {
        cause: this.#broken,
      });
    }
    const size = Buffer.byteLength(text);
    try {
      const written = writeSync(this.#fd, text);
      // writeSync may write less than asked (a full disk, a file size limit) without throwing;
      // the rest is written from bytes, which a string write cannot start in the middle of.
      if (written < size) {
        const bytes = Buffer.from(text);
        for (let done = written; done < size; ) {
          done += writeSync(this.#fd, bytes, done, size - done);
        }
      }
      if (this.#sync) fdatasyncSync(this.#fd);
    } catch (error) {
      try {
        ftruncateSync(this.#fd, this.#size);
      } catch (cutError) {
        // Where the file ends is unknown now: another record would be read back from the wrong
        // place, so none is written. What is on disk is recovered at the next start.
        this.#broken = cutError;
      }
      throw error;
    }
    this.#size += size;
  }
}

function syncDirectory(path: string): void {
  const directory = openSync(dirname(path), 'r');
  try {
    fsyncSync(directory);
  } finally {
    closeSync(directory);
  }
}

/** The first line of the intake file of `database`, without its newline. */
function headerLine(database: string | undefined): string {
  return JSON.stringify({ rxjobsIntake: 1, database });
}

/**
 * The records a crashed process left in the file at `path`, oldest first; none when there is no
 * file. Whatever follows the last well-formed record, a write that a crash cut short or what a
 * power loss left, is ignored: with `'full'` each record is synced before `submitJob` returns,
 * so it was never acknowledged, and `'normal'` does not guard against power loss. A file that
 * belongs to another database (`database` is undefined for one that has no id yet), or a record
 * that is not well formed with a well-formed one after it, is refused: guessing would lose or
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
  lines.pop();
  const [header, ...records] = lines;
  // No whole line: a crash cut the header short, so the text is the start of this one's.
  if (header === undefined) {
    if (headerLine(database).startsWith(text)) return [];
    throw new StoreOpenError(path, 'unreadable', 'the file is not an rxjobs intake file');
  }
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
  const parsed = records.map(parseRecord);
  const kept = parsed.slice(0, parsed.findLastIndex((record) => record !== undefined) + 1);
  const bad = kept.findIndex(
    (record, index) =>
      record === undefined || (index > 0 && record.seq <= (kept[index - 1]?.seq ?? 0)),
  );
  if (bad >= 0) {
    const why = kept[bad] === undefined ? 'is not a job record' : 'does not follow the one before';
    throw new StoreOpenError(path, 'unreadable', `record ${bad + 1} ${why}`);
  }
  return kept as IntakeRecord[];
}

const DEFINITION_KEY = '"jobs":[{"definition":';
const CREATED_KEY = ',"createdAt":';

/**
 * Jobs read back from the file for one flush, each by where {@link IntakeLog.append} said it
 * is. A job alone in its record has its definition copied out as it was written; a batch's
 * record is parsed once for all its jobs.
 */
export class IntakeReadBack {
  /** The record that starts at a byte, without its newline. */
  readonly #line: (start: number) => Buffer;
  readonly #batches = new Map<number, Map<string, AcceptedJob>>();

  constructor(line: (start: number) => Buffer) {
    this.#line = line;
  }

  /** The job's definition, encoded as `encode` would. */
  definition(id: string, at: number): string {
    if (at < 0) return encodeDefinition(this.accepted(id, at).definition);
    // Found, not parsed: it follows the first `"jobs":[{"definition":` of the line, as nothing
    // before it is a string, and ends at the line's last `,"createdAt":`, as only the job's
    // times follow it. A payload may hold such a key, but only before that point.
    const line = this.#line(at);
    const from = line.indexOf(DEFINITION_KEY) + DEFINITION_KEY.length;
    return line.toString('utf8', from, line.lastIndexOf(CREATED_KEY));
  }

  /** The job as accepted: its definition and its pending snapshot. */
  accepted(id: string, at: number): AcceptedJob {
    const start = at < 0 ? -at - 1 : at;
    let jobs = this.#batches.get(start);
    if (jobs === undefined) {
      const record = parseRecord(this.#line(start).toString('utf8'));
      if (record === undefined) throw new Error(`The intake file has no record at byte ${start}`);
      jobs = new Map(record.jobs.map((job) => [job.snapshot.id, job]));
      this.#batches.set(start, jobs);
    }
    const job = jobs.get(id);
    if (job === undefined) throw new Error(`The intake record at byte ${start} has no job '${id}'`);
    return job;
  }
}

/** A complete line as a record, or undefined when it is not one. */
function parseRecord(line: string): IntakeRecord | undefined {
  const record = parseLine(line);
  if (!isRecord(record)) return undefined;
  const jobs = record.jobs.map(({ definition, createdAt, nextRunAt }) => ({
    definition,
    snapshot: pendingSnapshot(
      definition.id,
      definition.name,
      definition.type,
      definition.priority,
      definition.parentId,
      createdAt,
      nextRunAt,
    ),
  }));
  return { seq: record.seq, jobs };
}

function parseLine(line: string): unknown {
  try {
    return decode(line);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is { seq: number; jobs: WrittenJob[] } {
  const record = value as { seq?: unknown; jobs?: unknown } | undefined;
  return (
    typeof record === 'object' &&
    record !== null &&
    Number.isInteger(record.seq) &&
    Array.isArray(record.jobs) &&
    record.jobs.every((job: Partial<WrittenJob> | null) => {
      const definition = job?.definition as Partial<JobDefinition> | null | undefined;
      return (
        typeof definition === 'object' &&
        definition !== null &&
        typeof definition.id === 'string' &&
        typeof definition.name === 'string' &&
        typeof definition.type === 'string' &&
        typeof definition.priority === 'number' &&
        Number.isFinite(job?.createdAt) &&
        (job?.nextRunAt === undefined || Number.isFinite(job.nextRunAt))
      );
    })
  );
}
