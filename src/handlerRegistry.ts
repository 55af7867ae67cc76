import type { RetryPolicy } from '../operators/retryBackoff.js';
import { assertFunction, assertNonEmptyString, expectedMessage } from '../operators/validate.js';
import type { JobHandler, MissedRunsPolicy, OverlapPolicy } from './types.js';

/** Settings a defined handler gives the jobs submitted by its name, unless a job sets its own. */
export interface HandlerDefaults {
  readonly priority?: number;
  readonly timeout?: number;
  readonly retryPolicy?: Partial<RetryPolicy>;
  readonly overlap?: OverlapPolicy;
  readonly missedRuns?: MissedRunsPolicy;
}

export interface DefinedHandler {
  readonly handler: JobHandler;
  readonly defaults: HandlerDefaults;
}

const DEFAULT_FIELDS = ['priority', 'timeout', 'retryPolicy', 'overlap', 'missedRuns'];

/**
 * Handlers by job name. Functions cannot be stored, so a durable job names its handler and a
 * restarted process finds it here again.
 */
export class HandlerRegistry {
  readonly #handlers = new Map<string, DefinedHandler>();

  define(name: string, handler: JobHandler, defaults: HandlerDefaults = {}): void {
    assertNonEmptyString('name', name);
    assertFunction('handler', handler);
    if (typeof defaults !== 'object' || defaults === null) {
      throw new TypeError(expectedMessage('defaults', 'an object', defaults));
    }
    for (const key of Object.keys(defaults)) {
      if (!DEFAULT_FIELDS.includes(key)) {
        throw new TypeError(
          expectedMessage(`defaults.${key}`, `one of the fields ${DEFAULT_FIELDS.join(', ')}`, key),
        );
      }
    }
    if (this.#handlers.has(name)) {
      throw new RangeError(expectedMessage('name', 'a name not defined yet', name));
    }
    this.#handlers.set(name, { handler, defaults });
  }

  get(name: string): DefinedHandler | undefined {
    return this.#handlers.get(name);
  }
}
