import { nextCronFire } from '../operators/cron.js';
import { assertTimeout } from '../operators/jobTimeout.js';
import { type RetryPolicy, validateRetryPolicy } from '../operators/retryBackoff.js';
import {
  assertFinite,
  assertFunction,
  assertInteger,
  assertNonEmptyString,
  assertOneOf,
  expectedMessage,
  toEpochMs,
} from '../operators/validate.js';
import { DEFAULT_BACKOFF_FACTOR, DEFAULT_MAX_RETRY_DELAY, type ResolvedConfig } from './config.js';
import type { JobHandler, JobInput, JobType, OverlapPolicy } from './types.js';
import { Priority } from './types.js';

/** When a job's runs happen, with every time already in epoch ms. */
export type Timing =
  | { readonly kind: 'now' }
  | { readonly kind: 'once'; readonly startTime: number }
  | { readonly kind: 'cron'; readonly cronExpr: string; readonly timezone: string }
  | {
      readonly kind: 'interval';
      readonly every: number;
      readonly startTime?: number;
      readonly maxRuns: number;
    };

/** A submission after validation: complete, with defaults applied. */
export interface JobSpec {
  readonly id: string | undefined;
  readonly name: string;
  readonly type: JobType;
  readonly priority: number;
  readonly payload: unknown;
  readonly handler: JobHandler | undefined;
  readonly timing: Timing;
  readonly retryPolicy: RetryPolicy;
  readonly timeout: number;
  readonly overlap: OverlapPolicy;
  readonly children: readonly JobSpec[];
  readonly concurrency: number;
}

const JOB_TYPES: readonly JobType[] = ['immediate', 'scheduled', 'cron', 'recurring', 'batch'];
const OVERLAPS: readonly OverlapPolicy[] = ['skip', 'queue', 'allow'];
const SCHEDULE_TYPES = ['once', 'cron', 'interval'] as const;
const TYPE_OF_SCHEDULE = { once: 'scheduled', cron: 'cron', interval: 'recurring' } as const;

/**
 * Checks a submission from top to bottom before anything is stored, so a bad one leaves no trace.
 * `path` prefixes field names in messages (`jobs[2].handler`); `inherited` carries a batch's
 * settings down to children that do not set their own.
 */
export function toJobSpec(
  input: JobInput,
  config: ResolvedConfig,
  path = '',
  inherited: Partial<Pick<JobSpec, 'priority' | 'timeout'>> & {
    retryPolicy?: Partial<RetryPolicy>;
  } = {},
  seen: Set<object> = new Set(),
): JobSpec {
  const field = (name: string) => `${path}${name}`;
  if (typeof input !== 'object' || input === null) {
    throw new TypeError(
      expectedMessage(path === '' ? 'job' : path.slice(0, -1), 'a job object', input),
    );
  }
  if (seen.has(input)) {
    throw new TypeError(
      expectedMessage(field('jobs'), 'a tree of jobs, not one that contains itself', '[cycle]'),
    );
  }
  seen.add(input);
  if (input.id !== undefined) assertNonEmptyString(field('id'), input.id);
  assertNonEmptyString(field('name'), input.name);
  const type = resolveType(input, field);
  const priority = input.priority ?? inherited.priority ?? Priority.Normal;
  assertFinite(field('priority'), priority);
  const timeout = input.timeout ?? inherited.timeout ?? config.jobTimeout;
  assertTimeout(field('timeout'), timeout);
  const overlap = input.overlap ?? 'skip';
  assertOneOf(field('overlap'), overlap, OVERLAPS);
  const ownPolicy: unknown = input.retryPolicy;
  if (ownPolicy !== undefined && (typeof ownPolicy !== 'object' || ownPolicy === null)) {
    throw new TypeError(expectedMessage(field('retryPolicy'), 'an object', ownPolicy));
  }
  const retryPolicy = resolveRetryPolicy(
    { ...inherited.retryPolicy, ...input.retryPolicy },
    config,
    field,
  );
  const timing = resolveTiming(input, type, config, field);

  if (type !== 'batch') {
    assertFunction(field('handler'), input.handler);
    return {
      id: input.id,
      name: input.name,
      type,
      priority,
      payload: input.payload,
      handler: input.handler as JobHandler,
      timing,
      retryPolicy,
      timeout,
      overlap,
      children: [],
      concurrency: 1,
    };
  }
  if (!Array.isArray(input.jobs) || input.jobs.length === 0) {
    throw new TypeError(expectedMessage(field('jobs'), 'a non-empty array of jobs', input.jobs));
  }
  const concurrency = input.concurrency ?? config.maxWorkers;
  assertInteger(field('concurrency'), concurrency, 1, true);
  const childDefaults = { priority, timeout, retryPolicy: input.retryPolicy ?? {} };
  const children = input.jobs.map((child, index) => {
    const spec = toJobSpec(child, config, `${field('jobs')}[${index}].`, childDefaults, seen);
    if (spec.type !== 'immediate') {
      throw new TypeError(
        expectedMessage(`${field('jobs')}[${index}].type`, "'immediate' in a batch", spec.type),
      );
    }
    return spec;
  });
  return {
    id: input.id,
    name: input.name,
    type,
    priority,
    payload: input.payload,
    handler: undefined,
    timing,
    retryPolicy,
    timeout,
    overlap,
    children,
    concurrency,
  };
}

function resolveType(input: JobInput, field: (name: string) => string): JobType {
  const scheduleType = input.schedule?.type;
  if (input.schedule !== undefined) {
    if (typeof input.schedule !== 'object' || input.schedule === null) {
      throw new TypeError(expectedMessage(field('schedule'), 'a schedule object', input.schedule));
    }
    assertOneOf(field('schedule.type'), scheduleType, SCHEDULE_TYPES);
  }
  const inferred: JobType =
    scheduleType !== undefined
      ? TYPE_OF_SCHEDULE[scheduleType]
      : input.jobs !== undefined
        ? 'batch'
        : 'immediate';
  if (input.type === undefined) return inferred;
  assertOneOf(field('type'), input.type, JOB_TYPES);
  if (input.type !== inferred) {
    const needs =
      input.type === 'immediate'
        ? 'no schedule and no jobs'
        : input.type === 'batch'
          ? 'a `jobs` array'
          : `a schedule of type '${Object.entries(TYPE_OF_SCHEDULE).find(([, t]) => t === input.type)?.[0]}'`;
    throw new TypeError(
      expectedMessage(
        field('type'),
        `'${inferred}' for this input (type '${input.type}' needs ${needs})`,
        input.type,
      ),
    );
  }
  return input.type;
}

function resolveTiming(
  input: JobInput,
  type: JobType,
  config: ResolvedConfig,
  field: (name: string) => string,
): Timing {
  const schedule = input.schedule;
  if (schedule === undefined) return { kind: 'now' };
  switch (schedule.type) {
    case 'once':
      return {
        kind: 'once',
        startTime: toEpochMs(field('schedule.startTime'), schedule.startTime),
      };
    case 'cron': {
      if (!config.enableCron) {
        throw new TypeError(
          `Cron jobs are disabled: the scheduler was created with \`enableCron: false\`, so job '${input.name}' (type '${type}') was not accepted`,
        );
      }
      assertNonEmptyString(field('schedule.cronExpr'), schedule.cronExpr);
      const timezone = schedule.timezone ?? 'UTC';
      // Parses the expression and the zone now, so a bad one throws before anything is stored.
      nextCronFire(schedule.cronExpr, config.scheduler.now(), timezone);
      return { kind: 'cron', cronExpr: schedule.cronExpr, timezone };
    }
    case 'interval': {
      assertInteger(field('schedule.every'), schedule.every, 1);
      const maxRuns = schedule.maxRuns ?? Number.POSITIVE_INFINITY;
      assertInteger(field('schedule.maxRuns'), maxRuns, 1, true);
      if (schedule.startTime === undefined)
        return { kind: 'interval', every: schedule.every, maxRuns };
      const startTime = toEpochMs(field('schedule.startTime'), schedule.startTime);
      return { kind: 'interval', every: schedule.every, startTime, maxRuns };
    }
  }
}

function resolveRetryPolicy(
  partial: Partial<RetryPolicy>,
  config: ResolvedConfig,
  field: (name: string) => string,
): RetryPolicy {
  if (typeof partial !== 'object' || partial === null) {
    throw new TypeError(expectedMessage(field('retryPolicy'), 'an object', partial));
  }
  const policy: RetryPolicy = {
    maxAttempts: config.enableRetry ? config.retryAttempts : 1,
    initialDelay: config.retryDelay,
    maxDelay: Math.max(DEFAULT_MAX_RETRY_DELAY, config.retryDelay),
    backoffFactor: DEFAULT_BACKOFF_FACTOR,
    ...Object.fromEntries(Object.entries(partial).filter(([, value]) => value !== undefined)),
  };
  return validateRetryPolicy(policy, field('retryPolicy'));
}
