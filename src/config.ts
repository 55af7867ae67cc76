import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { assertTimeout } from '../operators/jobTimeout.js';
import {
  assertFiniteAtLeast,
  assertInteger,
  assertObject,
  assertScheduler,
  expectedMessage,
} from '../operators/validate.js';
import type { JobStore } from './jobStore.js';
import type { SchedulerConfig } from './types.js';

/** Every field filled in: an option given as `undefined` takes its default. */
export type ResolvedConfig = {
  readonly [K in Exclude<keyof SchedulerConfig, 'store'>]-?: Exclude<SchedulerConfig[K], undefined>;
} & {
  readonly scheduler: SchedulerLike;
  readonly store: JobStore | undefined;
};

const DEFAULTS: ResolvedConfig = {
  maxWorkers: 4,
  queueSize: 100,
  enablePriority: true,
  aging: 0,
  enableRetry: true,
  retryAttempts: 3,
  retryDelay: 1000,
  jobTimeout: 30_000,
  metricsInterval: 10_000,
  enableCron: true,
  retention: 1000,
  scheduler: asyncScheduler,
  store: undefined,
};

/** The longest retry delay when a job's policy names none: the seed's own example uses 30 s. */
export const DEFAULT_MAX_RETRY_DELAY = 30_000;
export const DEFAULT_BACKOFF_FACTOR = 2;

function assertStore(store: unknown): void {
  const candidate = store as Partial<JobStore> | null;
  const valid =
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.apply === 'function' &&
    typeof candidate.get === 'function' &&
    typeof candidate.list === 'function';
  if (!valid)
    throw new TypeError(
      expectedMessage('store', 'a job store such as sqliteStore({ path })', store),
    );
}

function assertBoolean(name: string, value: unknown): void {
  if (typeof value !== 'boolean') throw new TypeError(expectedMessage(name, 'a boolean', value));
}

/** Fills defaults by spread, never touching the caller's object, and checks every field. */
export function resolveConfig(config: SchedulerConfig = {}): ResolvedConfig {
  assertObject('config', config);
  for (const key of Object.keys(config)) {
    // Own keys only: `toString` or `constructor` is no config field.
    if (!Object.hasOwn(DEFAULTS, key)) {
      throw new TypeError(
        expectedMessage(
          key,
          `a config field (${Object.keys(DEFAULTS).join(', ')})`,
          (config as Record<string, unknown>)[key],
        ),
      );
    }
  }
  const resolved: ResolvedConfig = { ...DEFAULTS, ...definedFields(config) };
  assertInteger('maxWorkers', resolved.maxWorkers, 1);
  assertInteger('queueSize', resolved.queueSize, 1, true);
  assertBoolean('enablePriority', resolved.enablePriority);
  assertFiniteAtLeast('aging', resolved.aging, 0);
  assertBoolean('enableRetry', resolved.enableRetry);
  assertInteger('retryAttempts', resolved.retryAttempts, 1, true);
  assertFiniteAtLeast('retryDelay', resolved.retryDelay, 0);
  assertTimeout('jobTimeout', resolved.jobTimeout);
  assertTimeout('metricsInterval', resolved.metricsInterval);
  assertBoolean('enableCron', resolved.enableCron);
  assertInteger('retention', resolved.retention, 0, true);
  assertScheduler('scheduler', resolved.scheduler);
  if (resolved.store !== undefined) assertStore(resolved.store);
  return resolved;
}

/** `{ maxWorkers: undefined }` means "the default", as it would for a left-out field. */
function definedFields(config: SchedulerConfig): Partial<ResolvedConfig> {
  return Object.fromEntries(Object.entries(config).filter(([, value]) => value !== undefined));
}
