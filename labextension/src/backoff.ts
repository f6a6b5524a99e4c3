/** Trying again after a failure, each wait longer than the last, on a Lumino `Poll`. */

import { IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';

/** How a `Backoff` waits: from `first` ms, doubled after each try up to `max` ms. */
export interface IBackoffOptions {
  /** The poll's name, for debugging. */
  name: string;
  first: number;
  max: number;
  /** Spread each wait by ±25 %, so that many tabs do not all come back at once. */
  jitter?: boolean;
  /** What to do when the wait is over. */
  run: () => void;
}

/**
 * Runs `run` once after a wait that doubles with every `schedule` until `reset` (a success).
 * The poll ticks only when scheduled, as Lumino's rate limiters drive theirs: it never polls
 * on its own, so a model decides when to try again and when to stop.
 */
export class Backoff implements IDisposable {
  constructor(private readonly _options: IBackoffOptions) {
    this._wait = _options.first;
    this._poll = new Poll<void, unknown, 'waiting'>({
      name: _options.name,
      auto: false,
      factory: () => {
        this._pending = false;
        this._options.run();
        return Promise.resolve();
      },
      frequency: { backoff: false, interval: Poll.NEVER, max: Poll.NEVER },
      standby: 'never'
    });
  }

  /** Whether a try waits its turn. */
  get pending(): boolean {
    return this._pending;
  }

  /** How long the next `schedule` waits, before any jitter. */
  get wait(): number {
    return this._wait;
  }

  /** Run after the current wait (unless a try waits already), then wait twice as long. */
  schedule(): void {
    if (this._pending || this.isDisposed) {
      return;
    }
    this._pending = true;
    const spread = this._options.jitter ? 0.75 + Math.random() * 0.5 : 1;
    void this._poll.schedule({ interval: Math.round(this._wait * spread), phase: 'waiting' });
    this._wait = Math.min(this._wait * 2, this._options.max);
  }

  /** Drop a try that waits its turn. */
  cancel(): void {
    if (this._pending) {
      this._pending = false;
      void this._poll.stop();
    }
  }

  /** Back to the first wait, after a success. */
  reset(): void {
    this._wait = this._options.first;
  }

  get isDisposed(): boolean {
    return this._poll.isDisposed;
  }

  dispose(): void {
    this._pending = false;
    this._poll.dispose();
  }

  private _pending = false;
  private _poll: Poll<void, unknown, 'waiting'>;
  private _wait: number;
}
