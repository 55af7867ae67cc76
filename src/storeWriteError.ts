import type { StopReport } from './types.js';

/**
 * A durable store could not write what the scheduler did since its last write: the disk is full,
 * or the device failed. Nothing accepted is lost: every job `submitJob` accepted is in the intake
 * file beside the database, which the next `start()` recovers from. The store tries the write
 * again after 1 s, then 2, 4… up to a minute, and once more at `stop()`, which rejects with this
 * error if that fails too; the transitions not written are then recovered as after a crash (an
 * attempt that had finished may run again).
 *
 * @example
 * ```ts
 * sqliteStore({ path: 'jobs.db', onWriteError: (error) => alerts.page(error.message) });
 * ```
 */
export class StoreWriteError extends Error {
  override name = 'StoreWriteError' as const;
  /** The database file. */
  readonly path: string;
  /**
   * When `stop()` rejects with this error: its report, of the jobs the stop cancelled. Those
   * cancellations were not written, so the next `start()` brings the jobs back.
   */
  stopReport: StopReport | undefined;

  /** `intake`: the intake file beside it, which holds what was accepted since the last write. */
  constructor(path: string, intake: string, options: ErrorOptions & { cause: unknown }) {
    const detail = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(
      `Cannot write to the job store at '${path}': ${detail}. The jobs accepted since are kept in '${intake}' and recovered at the next start()`,
      options,
    );
    this.path = path;
    this.stopReport = undefined;
  }
}
