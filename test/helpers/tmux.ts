// A real pseudo-terminal for end-to-end tests: a detached tmux session of a fixed size, on a
// server of its own (`-L`), so a test neither sees nor disturbs the user's tmux. `-u` keeps the
// dashboard's block characters even where the locale does not say UTF-8.
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

export interface TmuxOptions {
  readonly width: number;
  readonly height: number;
  /** A bash script, run by bash directly (not through tmux's default shell). */
  readonly script: string;
}

export class TmuxSession {
  readonly #socket: string;
  readonly #target: string;

  private constructor(socket: string, target: string) {
    this.#socket = socket;
    this.#target = target;
  }

  /** Throws a readable error when tmux is missing, rather than failing on every assertion. */
  static start(name: string, { width, height, script }: TmuxOptions): TmuxSession {
    const socket = `rxjobs-test-${process.pid}-${name}`;
    const session = new TmuxSession(socket, name);
    // Argument form: tmux runs bash itself, so no /bin/sh sits between it and the terminal.
    // A non-interactive bash waits out a Ctrl-C its child handles, then runs the next command.
    session.#tmux(
      'new-session',
      '-d',
      '-s',
      name,
      '-x',
      String(width),
      '-y',
      String(height),
      '--',
      'bash',
      '--norc',
      '--noprofile',
      '-c',
      script,
    );
    return session;
  }

  /** The visible screen; with `history`, the scrollback above it too. Wrapped lines are joined. */
  capture({ history = false } = {}): string {
    return this.#tmux(
      'capture-pane',
      '-p',
      '-J',
      '-t',
      this.#target,
      ...(history ? ['-S', '-'] : []),
    );
  }

  /** How many lines have scrolled off the top of the screen. */
  historySize(): number {
    return Number(this.#tmux('display-message', '-p', '-t', this.#target, '#{history_size}'));
  }

  sendKeys(...keys: string[]): void {
    this.#tmux('send-keys', '-t', this.#target, ...keys);
  }

  /** Polls the screen every 100 ms until `pattern` shows, or throws with what was there. */
  async waitFor(pattern: RegExp, ms: number, { history = false } = {}): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const screen = this.capture({ history });
      if (pattern.test(screen)) return screen;
      if (Date.now() > deadline) {
        throw new Error(`No ${pattern} on the terminal within ${ms} ms. It shows:\n${screen}`);
      }
      await sleep(100);
    }
  }

  kill(): void {
    try {
      this.#tmux('kill-server');
    } catch {
      // Already gone.
    }
  }

  #tmux(...args: string[]): string {
    const env = { ...process.env };
    // Started from inside tmux, the client would otherwise talk to the user's server.
    delete env.TMUX;
    try {
      return execFileSync('tmux', ['-u', '-L', this.#socket, ...args], { encoding: 'utf8', env });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new Error('These tests need tmux on the PATH (apt-get install -y tmux).');
      }
      throw error;
    }
  }
}
