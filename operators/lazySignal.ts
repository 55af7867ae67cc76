/**
 * An AbortSignal made only when someone reads it: creating an AbortController costs about
 * 3 µs, more than the rest of a no-op job, and most handlers never look at their signal.
 */
export class LazySignal {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      // A handler that first reads its signal after an abort must still see the abort.
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Aborts the signal; one not read yet is made already aborted when it is first read. */
  abort(reason: unknown): void {
    if (this.#controller !== undefined) {
      this.#controller.abort(reason);
    } else if (!this.#aborted) {
      this.#aborted = true;
      this.#reason = reason;
    }
  }
}
