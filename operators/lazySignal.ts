/**
 * An AbortSignal made only when someone reads it: creating an AbortController costs about
 * 3 µs, more than the rest of a no-op job, and most handlers never look at their signal.
 */
export class LazySignal {
  #controller: AbortController | undefined;

  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    return this.#controller.signal;
  }

  /** Aborts the signal if it was ever read; an unread signal has nobody to tell. */
  abort(reason: unknown): void {
    this.#controller?.abort(reason);
  }
}
