import { isObservable, Observable, type Subscriber, type TeardownLogic, tap } from 'rxjs';
import { LazySignal } from './lazySignal.js';
import { assertFunction, assertOptions } from './validate.js';

export interface SignalContext {
  /** Aborted when the subscription ends before the handler settles. Made on first read. */
  readonly signal: AbortSignal;
}

/** A function that returns a value, a Promise or an Observable, and may watch its signal. */
export type SignalHandler<R> = (context: SignalContext) => R | PromiseLike<R> | Observable<R>;

export interface FromHandlerOptions {
  /** The reason given to `signal.abort()`, read at teardown; by default an `AbortError`. */
  readonly abortReason?: () => unknown;
}

const FROM_HANDLER_OPTIONS: ReadonlySet<string> = new Set<keyof FromHandlerOptions>([
  'abortReason',
]);

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Runs `fn` on each subscription, hands it an AbortSignal, and emits what it returns: each
 * value of an Observable, the value a Promise settles to, or a plain value (an array is a plain
 * value here, not a stream of its items). Unsubscribing before it settles aborts the signal, so
 * timeouts and cancellation reach promise handlers. A throw or a rejection of any kind becomes
 * an error notification, never an unhandled rejection.
 *
 * @example
 * ```ts
 * import { fromHandler, jobTimeout } from 'rxjobs/operators';
 *
 * fromHandler(({ signal }) => fetch(url, { signal }).then((r) => r.json()))
 *   .pipe(jobTimeout(5000))
 *   .subscribe(console.log);
 * ```
 */
export function fromHandler<R>(
  fn: SignalHandler<R>,
  options: FromHandlerOptions = {},
): Observable<R> {
  assertFunction('fn', fn);
  assertOptions(options, FROM_HANDLER_OPTIONS);
  const { abortReason } = options;
  if (abortReason !== undefined) assertFunction('abortReason', abortReason);
  return new Observable<R>((subscriber) => {
    const lazySignal = new LazySignal();
    let output: R | PromiseLike<R> | Observable<R>;
    try {
      output = fn(lazySignal);
    } catch (error) {
      subscriber.error(error);
      return undefined;
    }
    return followOutput(output, lazySignal, subscriber, abortReason);
  });
}

/**
 * Sends what a handler returned to `subscriber` and returns the teardown that aborts
 * `lazySignal` if the subscription ends before the output settles. The part of `fromHandler`
 * after the call, for callers that make the call themselves.
 */
export function followOutput<R>(
  output: R | PromiseLike<R> | Observable<R>,
  lazySignal: LazySignal,
  subscriber: Subscriber<R>,
  abortReason?: () => unknown,
): TeardownLogic {
  let settled = false;
  const settle = () => {
    settled = true;
  };
  const abortIfUnsettled = () => {
    if (!settled) lazySignal.abort(abortReason?.());
  };
  if (isObservable(output)) {
    // Added first, so the signal is aborted before the inner's own teardown runs.
    subscriber.add(abortIfUnsettled);
    // Subscribing with the subscriber itself chains the inner to it, so an unsubscribe stops
    // even a synchronous inner mid-loop.
    output.pipe(tap({ error: settle, complete: settle })).subscribe(subscriber);
    return undefined;
  }
  if (isThenable(output)) {
    // Both callbacks are attached at once, so a rejection after unsubscribe is still handled.
    Promise.resolve(output).then(
      (value) => {
        settle();
        subscriber.next(value);
        subscriber.complete();
      },
      (error: unknown) => {
        settle();
        subscriber.error(error);
      },
    );
    return abortIfUnsettled;
  }
  subscriber.next(output);
  subscriber.complete();
  return undefined;
}
