import type { SignalContext } from '../operators/fromHandler.js';
import type { JobContext } from './types.js';

/**
 * The `ctx` a handler receives. `signal` is a getter on the prototype, so the AbortController
 * behind it is made only for handlers that read it.
 */
export class HandlerContext implements JobContext {
  readonly #signalContext: SignalContext;
  readonly attempt: number;
  readonly run: number;
  readonly job: { readonly id: string; readonly name: string };

  constructor(
    signalContext: SignalContext,
    attempt: number,
    run: number,
    job: { readonly id: string; readonly name: string },
  ) {
    this.#signalContext = signalContext;
    this.attempt = attempt;
    this.run = run;
    this.job = job;
  }

  get signal(): AbortSignal {
    return this.#signalContext.signal;
  }
}
