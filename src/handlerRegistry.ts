import {
  assertFunction,
  assertKnownFields,
  assertNonEmptyString,
  assertObject,
  expectedMessage,
} from '../operators/validate.js';
import type { JobHandler, JobRetryPolicy, MissedRunsPolicy, OverlapPolicy } from './types.js';

/** Settings a defined handler gives the jobs submitted by its name, unless a job sets its own. */
export interface HandlerDefaults {
  readonly priority?: number | undefined;
  readonly timeout?: number | undefined;
  readonly retryPolicy?: Partial<JobRetryPolicy> | undefined;
  readonly overlap?: OverlapPolicy | undefined;
  readonly missedRuns?: MissedRunsPolicy | undefined;
}

export interface DefinedHandler {
  readonly handler: JobHandler;
  readonly defaults: HandlerDefaults;
}

const DEFAULT_FIELDS: ReadonlySet<string> = new Set([
  'priority',
  'timeout',
  'retryPolicy',
  'overlap',
  'missedRuns',
]);

/**
 * Handlers by job name. Functions cannot be stored, so a durable job names its handler and a
 * restarted process finds it here again.
 */
export class HandlerRegistry {
  readonly #handlers = new Map<string, DefinedHandler>();

  /**
   * `check` is called once the handler is defined, and undoes the definition if it throws: it
   * checks the defaults as the jobs that inherit them will be checked.
   */
  define(
    name: string,
    handler: JobHandler,
    defaults: HandlerDefaults = {},
    check: () => void = () => {},
  ): void {
    assertNonEmptyString('name', name);
    assertFunction('handler', handler);
    assertObject('defaults', defaults);
    assertKnownFields(defaults, DEFAULT_FIELDS, (key) => `defaults.${key}`);
    const { retryPolicy } = defaults as { retryPolicy?: unknown };
    // Spread into the job's policy, a number or a string would add nothing and pass unseen.
    if (retryPolicy !== undefined) assertObject('defaults.retryPolicy', retryPolicy);
    if (this.#handlers.has(name)) {
      throw new RangeError(expectedMessage('name', 'a name not defined yet', name));
    }
    this.#handlers.set(name, { handler, defaults });
    try {
      check();
    } catch (error) {
      this.#handlers.delete(name);
      throw error;
    }
  }

  get(name: string): DefinedHandler | undefined {
    return this.#handlers.get(name);
  }
}
