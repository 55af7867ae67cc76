import { assertTimezone, InvalidCronExpressionError, nextCronFire } from '../operators/cron.js';
import { assertTimeout } from '../operators/jobTimeout.js';
import { type RetryPolicy, validateRetryPolicy } from '../operators/retryBackoff.js';
import {
  assertFinite,
  assertFunction,
  assertInteger,
  assertKnownFields,
  assertNonEmptyString,
  assertObject,
  assertOneOf,
  expectedMessage,
  LATEST_DATE_MS,
  toEpochMs,
} from '../operators/validate.js';
import { DEFAULT_BACKOFF_FACTOR, DEFAULT_MAX_RETRY_DELAY, type ResolvedConfig } from './config.js';
import { unserializableReason } from './durableCodec.js';
import type { HandlerDefaults, HandlerRegistry } from './handlerRegistry.js';
import type {
  JobDefinition,
  JobHandler,
  JobInput,
  JobType,
  MissedRunsPolicy,
  OverlapPolicy,
  Schedule,
  Timing,
} from './types.js';
import { Priority } from './types.js';

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
  readonly missedRuns: MissedRunsPolicy;
  readonly children: readonly JobSpec[];
  readonly concurrency: number;
}

const JOB_TYPES: readonly JobType[] = ['immediate', 'scheduled', 'cron', 'recurring', 'batch'];
const OVERLAPS: readonly OverlapPolicy[] = ['skip', 'queue', 'allow'];
const MISSED_RUNS: readonly MissedRunsPolicy[] = ['skip', 'once'];

/** What validation needs besides the input: the config, the defined handlers, the store's kind. */
export interface SpecContext {
  readonly config: ResolvedConfig;
  readonly registry: HandlerRegistry;
  /** A durable store keeps jobs as data: handlers must be defined, payloads JSON. */
  readonly durable: boolean;
}
const SCHEDULE_TYPES = ['once', 'cron', 'interval'] as const;
// Shared by every job they fit, so that a job waiting in a large backlog holds no copy.
const NOW: Timing = Object.freeze({ kind: 'now' });
const NO_CHILDREN: readonly JobSpec[] = Object.freeze([]);
const NO_DEFAULTS: HandlerDefaults = Object.freeze({});
/** The policy of every job that overrides no field of it, per config. */
const defaultPolicies = new WeakMap<ResolvedConfig, RetryPolicy>();
const TYPE_OF_SCHEDULE = { once: 'scheduled', cron: 'cron', interval: 'recurring' } as const;

const JOB_FIELDS: ReadonlySet<keyof JobInput> = new Set([
  'id',
  'name',
  'type',
  'priority',
  'payload',
  'handler',
  'schedule',
  'retryPolicy',
  'timeout',
  'overlap',
  'missedRuns',
  'jobs',
  'concurrency',
] as const);

/** The fields of each kind of schedule. */
const SCHEDULE_FIELDS: Record<Schedule['type'], ReadonlySet<string>> = {
  once: new Set(['type', 'startTime']),
  cron: new Set(['type', 'cronExpr', 'timezone']),
  interval: new Set(['type', 'every', 'startTime', 'maxRuns']),
};

/** What a batch passes down to children that do not set their own. */
type Inherited = Partial<Pick<JobSpec, 'priority' | 'timeout'>> & {
  retryPolicy?: Partial<RetryPolicy>;
};

/**
 * Checks a submission from top to bottom before anything is stored, so a bad one leaves no trace.
 * `path` prefixes field names in messages (`jobs[2].handler`); `inherited` carries a batch's
 * settings down to children that do not set their own.
 */
export function toJobSpec(
  input: JobInput,
  context: SpecContext,
  path = '',
  inherited: Inherited = {},
  // The batches above this job, made only for a batch: most jobs have no tree to walk.
  ancestors?: Set<object>,
): JobSpec {
  const { config, registry, durable } = context;
  const field = (name: string) => `${path}${name}`;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new TypeError(
      expectedMessage(path === '' ? 'job' : path.slice(0, -1), 'a job object', input),
    );
  }
  if (ancestors?.has(input)) {
    throw new TypeError(
      expectedMessage(field('jobs'), 'a tree of jobs, not one that contains itself', '[cycle]'),
    );
  }
  assertKnownFields(input, JOB_FIELDS, field);
  // Each read once: what is checked is what is kept, whatever getters the input has.
  const { id, name, payload } = input;
  if (id !== undefined) assertNonEmptyString(field('id'), id);
  assertNonEmptyString(field('name'), name);
  const type = resolveType(input, field);
  assertFieldsApply(input, type, field);
  const defined = registry.get(name);
  const defaults: HandlerDefaults = defined?.defaults ?? NO_DEFAULTS;
  const priority = given(
    input.priority,
    given(defaults.priority, inherited.priority ?? Priority.Normal),
  );
  assertFinite(field('priority'), priority);
  // With aging, priorities are compared in ms (priority × aging): past that, two would tie.
  if (config.enablePriority && !Number.isFinite(priority * config.aging)) {
    throw new RangeError(
      expectedMessage(
        field('priority'),
        `a number whose product with aging (${config.aging}) is finite`,
        priority,
      ),
    );
  }
  const timeout = given(
    input.timeout,
    given(defaults.timeout, inherited.timeout ?? config.jobTimeout),
  );
  assertTimeout(field('timeout'), timeout);
  const overlap = given(input.overlap, given(defaults.overlap, 'skip'));
  assertOneOf(field('overlap'), overlap, OVERLAPS);
  const missedRuns = given(input.missedRuns, given(defaults.missedRuns, 'skip'));
  assertOneOf(field('missedRuns'), missedRuns, MISSED_RUNS);
  const ownPolicy: unknown = input.retryPolicy;
  if (ownPolicy !== undefined) assertObject(field('retryPolicy'), ownPolicy);
  if (durable && input.retryPolicy?.retryIf !== undefined) {
    throw new TypeError(
      expectedMessage(
        field('retryPolicy.retryIf'),
        `left out with a durable store (give it in scheduler.define('${name}', handler, { retryPolicy }))`,
        input.retryPolicy.retryIf,
      ),
    );
  }
  const overridden =
    inherited.retryPolicy !== undefined ||
    defaults.retryPolicy !== undefined ||
    input.retryPolicy !== undefined;
  const retryPolicy = overridden
    ? resolveRetryPolicy(
        { ...inherited.retryPolicy, ...defaults.retryPolicy, ...input.retryPolicy },
        config,
        field,
      )
    : defaultPolicy(config, field);
  const timing = resolveTiming(input, type, config, field);

  const { handler, children, concurrency } =
    type === 'batch'
      ? batchParts(
          input,
          context,
          field,
          { priority, timeout, retryPolicy: input.retryPolicy ?? {} },
          ancestors,
        )
      : {
          handler: resolveHandler(input, defined?.handler, durable, field),
          children: NO_CHILDREN,
          concurrency: 1,
        };
  // Last, after every other read of the input: the text it is encoded to is kept for the write
  // that follows, and a getter could otherwise change the payload in between.
  if (durable) {
    const reason = unserializableReason(payload);
    if (reason !== undefined) {
      throw new TypeError(
        expectedMessage(
          field('payload'),
          `JSON-serialisable for a durable store (${reason})`,
          payload,
        ),
      );
    }
  }
  // One literal, not spreads of shared parts: V8 builds a spread object key by key, and that
  // was a fifth of the cost of a job.
  return {
    id,
    name,
    type,
    priority,
    payload,
    handler,
    timing,
    retryPolicy,
    timeout,
    overlap,
    missedRuns,
    children,
    concurrency,
  };
}

/** A batch's children, each checked as a job of its own, and how many run at once. */
function batchParts(
  input: JobInput,
  context: SpecContext,
  field: (name: string) => string,
  childDefaults: Inherited,
  ancestors: Set<object> | undefined,
): Pick<JobSpec, 'handler' | 'children' | 'concurrency'> {
  const jobs = input.jobs;
  if (!Array.isArray(jobs) || jobs.length === 0) {
    throw new TypeError(expectedMessage(field('jobs'), 'a non-empty array of jobs', jobs));
  }
  const concurrency = given(input.concurrency, context.config.maxWorkers);
  assertInteger(field('concurrency'), concurrency, 1, true);
  // The jobs above this one: a child that is one of them is a cycle. The same object twice
  // among siblings is two jobs alike, and fine.
  const path = ancestors ?? new Set<object>();
  path.add(input);
  try {
    // Array.from, not map: a hole in a sparse array is a child left out, to be named, not skipped.
    const children = Array.from(jobs, (child: JobInput, index) => {
      const spec = toJobSpec(child, context, `${field('jobs')}[${index}].`, childDefaults, path);
      if (spec.type !== 'immediate') {
        throw new TypeError(
          expectedMessage(`${field('jobs')}[${index}].type`, "'immediate' in a batch", spec.type),
        );
      }
      return spec;
    });
    return { handler: undefined, children, concurrency };
  } finally {
    path.delete(input);
  }
}

/** The inline handler, or the one defined for the job's name; a durable store takes only the latter. */
function resolveHandler(
  input: JobInput,
  defined: JobHandler | undefined,
  durable: boolean,
  field: (name: string) => string,
): JobHandler {
  const inline = input.handler;
  if (durable && inline !== undefined) {
    throw new TypeError(
      expectedMessage(
        field('handler'),
        `left out with a durable store, which keeps jobs as data (define it once with scheduler.define('${input.name}', handler))`,
        inline,
      ),
    );
  }
  // Only a handler left out falls back to the defined one: `null` is refused below.
  const handler = inline === undefined ? defined : inline;
  if (typeof handler !== 'function') {
    assertFunction(field('handler'), inline);
  }
  return handler as JobHandler;
}

/** The job as plain data, for a durable store. */
export function toDefinition(
  spec: JobSpec,
  id: string,
  parentId: string | undefined,
  childIds: readonly string[],
): JobDefinition {
  const { maxAttempts, initialDelay, maxDelay, backoffFactor, jitter } = spec.retryPolicy;
  // `retryIf` is a function: it stays behind, and comes back from the handler's defaults.
  const retryPolicy: {
    -readonly [K in keyof JobDefinition['retryPolicy']]: JobDefinition['retryPolicy'][K];
  } = { maxAttempts, initialDelay, maxDelay, backoffFactor };
  if (jitter !== undefined) retryPolicy.jitter = jitter;
  // Built field by field, not with spreads, which V8 builds key by key (see toJobSpec).
  const definition: { -readonly [K in keyof JobDefinition]: JobDefinition[K] } = {
    id,
    name: spec.name,
    type: spec.type,
    priority: spec.priority,
    payload: spec.payload,
    timing: spec.timing,
    retryPolicy,
    timeout: spec.timeout,
    overlap: spec.overlap,
    missedRuns: spec.missedRuns,
    concurrency: spec.concurrency,
  };
  if (parentId !== undefined) definition.parentId = parentId;
  if (childIds.length > 0) definition.childIds = childIds;
  return definition;
}

/** A stored job made runnable again, with the handler and defaults defined under its name. */
export function fromDefinition(definition: JobDefinition, registry: HandlerRegistry): JobSpec {
  const defined = registry.get(definition.name);
  const retryIf = defined?.defaults.retryPolicy?.retryIf;
  return {
    id: definition.id,
    name: definition.name,
    type: definition.type,
    priority: definition.priority,
    payload: definition.payload,
    handler: defined?.handler,
    timing: definition.timing,
    retryPolicy:
      retryIf === undefined ? definition.retryPolicy : { ...definition.retryPolicy, retryIf },
    timeout: definition.timeout,
    overlap: definition.overlap,
    missedRuns: definition.missedRuns,
    children: [],
    concurrency: definition.concurrency,
  };
}

/**
 * A field's own value, or `fallback` when it is left out. Only `undefined` is left out: a `null`
 * is a value, and the field's check refuses it, as the config's checks do.
 */
function given<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
}

/** What the fields that apply to one kind of job only would mean elsewhere: nothing, unseen. */
function assertFieldsApply(input: JobInput, type: JobType, field: (name: string) => string): void {
  if (type === 'batch') {
    refuse(input, 'handler', 'left out of a batch: each of its `jobs` has its own', field);
    refuse(input, 'payload', 'left out of a batch: each of its `jobs` has its own', field);
  } else {
    // Reached with a schedule only: without one, `jobs` makes the job a batch.
    refuse(
      input,
      'jobs',
      'left out of a job with a `schedule`: a batch runs once, when submitted',
      field,
    );
    refuse(input, 'concurrency', 'left out of a job that is not a batch', field);
  }
  const repeats = type === 'cron' || type === 'recurring';
  if (!repeats && (input.overlap !== undefined || input.missedRuns !== undefined)) {
    const why = `left out of a job of type '${type}': only cron and recurring jobs repeat`;
    refuse(input, 'overlap', why, field);
    refuse(input, 'missedRuns', why, field);
  }
}

function refuse(
  input: JobInput,
  name: keyof JobInput,
  why: string,
  field: (name: string) => string,
): void {
  const value = input[name];
  if (value !== undefined) throw new TypeError(expectedMessage(field(name), why, value));
}

function resolveType(input: JobInput, field: (name: string) => string): JobType {
  const scheduleType = input.schedule?.type;
  if (input.schedule !== undefined) {
    if (
      typeof input.schedule !== 'object' ||
      input.schedule === null ||
      Array.isArray(input.schedule)
    ) {
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
  if (schedule === undefined) return NOW;
  assertKnownFields(schedule, SCHEDULE_FIELDS[schedule.type], (key) => field(`schedule.${key}`));
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
      const timezone = given(schedule.timezone, 'UTC');
      assertTimezone(timezone, field('schedule.timezone'));
      // Parses the expression now, so a bad one throws before anything is stored.
      try {
        nextCronFire(schedule.cronExpr, config.scheduler.now(), timezone);
      } catch (error) {
        if (!(error instanceof InvalidCronExpressionError)) throw error;
        throw new InvalidCronExpressionError(error.expression, error.reason, {
          cause: error.cause,
          field: field('schedule.cronExpr'),
        });
      }
      return { kind: 'cron', cronExpr: schedule.cronExpr, timezone };
    }
    case 'interval': {
      const { every } = schedule;
      assertInteger(field('schedule.every'), every, 1);
      const startTime =
        schedule.startTime === undefined
          ? undefined
          : toEpochMs(field('schedule.startTime'), schedule.startTime);
      // Past this, the fire after the first is a time no Date can hold, and `nextRunAt` an
      // Invalid Date. The first is `startTime`, or a period from now.
      const longest = LATEST_DATE_MS - Math.max(startTime ?? 0, config.scheduler.now());
      if (every > longest) {
        throw new RangeError(
          expectedMessage(field('schedule.every'), `a whole number from 1 to ${longest}`, every),
        );
      }
      const maxRuns = given(schedule.maxRuns, Number.POSITIVE_INFINITY);
      assertInteger(field('schedule.maxRuns'), maxRuns, 1, true);
      return startTime === undefined
        ? { kind: 'interval', every, maxRuns }
        : { kind: 'interval', every, startTime, maxRuns };
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
  const overrides = Object.entries(partial).filter(([, value]) => value !== undefined);
  if (overrides.length > 0) return policyOf(overrides, config, field);
  return defaultPolicy(config, field);
}

function defaultPolicy(config: ResolvedConfig, field: (name: string) => string): RetryPolicy {
  let shared = defaultPolicies.get(config);
  if (shared === undefined) {
    shared = Object.freeze(policyOf([], config, field));
    defaultPolicies.set(config, shared);
  }
  return shared;
}

function policyOf(
  overrides: readonly [string, unknown][],
  config: ResolvedConfig,
  field: (name: string) => string,
): RetryPolicy {
  const fields: Partial<RetryPolicy> = Object.fromEntries(overrides);
  const initialDelay = fields.initialDelay ?? config.retryDelay;
  const policy: RetryPolicy = {
    maxAttempts: config.enableRetry ? config.retryAttempts : 1,
    initialDelay: config.retryDelay,
    // The default cap follows the first delay, the job's own as much as `retryDelay`: a job's
    // `initialDelay: 60_000` alone must not come out as 30 s. (A bad one is named below.)
    maxDelay: Math.max(
      DEFAULT_MAX_RETRY_DELAY,
      typeof initialDelay === 'number' ? initialDelay : 0,
    ),
    backoffFactor: DEFAULT_BACKOFF_FACTOR,
    ...fields,
  };
  const name = field('retryPolicy');
  validateRetryPolicy(policy, name);
  if ('resetOnSuccess' in policy) {
    throw new TypeError(
      expectedMessage(
        `${name}.resetOnSuccess`,
        'left out: a job counts its attempts by handler run (it is an option of retryBackoff)',
        policy.resetOnSuccess,
      ),
    );
  }
  return policy;
}
