/** Models that read the server on a Lumino `Poll` while their view is shown: the sidebar's status
 * and the sections that follow its refresh interval. */

import { IPoll, Poll } from '@lumino/polling';

import { ApiError } from './api';
import { ModelBase } from './modelBase';
import type { StatusModel } from './status';

/** Failed reads back off up to this many milliseconds between tries. */
export const MAX_BACKOFF_MS = 5 * 60 * 1000;

/** A read every `seconds`, backing off after failures up to `MAX_BACKOFF_MS` (or the interval). */
export function pollFrequency(seconds: number): IPoll.Frequency {
  const interval = seconds * 1000;
  return { interval, backoff: true, max: Math.max(interval, MAX_BACKOFF_MS) };
}

/** Any failure as the error a view shows (status 0 when it is not the server's answer). */
function asError(error: unknown): ApiError {
  return error instanceof ApiError ? error : new ApiError(0, 'unexpected', String(error));
}

/**
 * A model read by a poll while it is `active` (by default: while its view is shown); an
 * inactive model stands by and reads nothing. It keeps the last read's error and whether a
 * read is on its way; a failed read makes the poll back off.
 */
export abstract class PolledModel extends ModelBase {
  constructor(name: string, refreshSeconds: number) {
    super();
    this._refreshSeconds = refreshSeconds;
    this._poll = new Poll<void, ApiError>({
      name,
      factory: () => this.track(() => this.load()),
      frequency: pollFrequency(refreshSeconds),
      // Nobody sees a hidden view: spare the server until it is shown again.
      standby: () => (this.active ? 'when-hidden' : true)
    });
  }

  /** The last read's failure, or null when it succeeded. */
  get error(): ApiError | null {
    return this._error;
  }

  /** True while a read is on its way. */
  get loading(): boolean {
    return this._loading;
  }

  /** Whether the view is on screen; showing it reads at once. */
  get visible(): boolean {
    return this._visible;
  }

  set visible(visible: boolean) {
    if (visible !== this._visible) {
      this._visible = visible;
      this.wake();
    }
  }

  /** Whether the poll reads; a subclass adds its own conditions (configured, open). */
  protected get active(): boolean {
    return this._visible;
  }

  /** One read; it puts what it read in the model, and throws when it failed. */
  protected abstract load(): Promise<void>;

  /** What a successful read is followed by, still loading and with the error cleared. */
  protected afterLoad(): Promise<void> {
    return Promise.resolve();
  }

  /** Seconds between reads. */
  protected get interval(): number {
    return this._refreshSeconds;
  }

  /** Read every `seconds` from now on; false when that is the interval already. */
  protected setInterval(seconds: number): boolean {
    if (seconds === this._refreshSeconds) {
      return false;
    }
    this._refreshSeconds = seconds;
    this._poll.frequency = pollFrequency(seconds);
    return true;
  }

  /** Read now, whatever the poll's schedule (an inactive model's poll only stands by). */
  protected readNow(): void {
    void this._poll.refresh();
  }

  /** Read now if the model is active. */
  protected wake(): void {
    if (this.active) {
      this.readNow();
    }
  }

  /** Run one read, telling the view when it starts and ends and keeping its failure. */
  protected async track(load: () => Promise<void>): Promise<void> {
    this._loading = true;
    this.emit();
    try {
      await load();
      this._error = null;
      await this.afterLoad();
    } catch (error) {
      this._error = asError(error);
      throw this._error;
    } finally {
      this._loading = false;
      this.emit();
    }
  }

  protected onDispose(): void {
    // Stopping clears the timer of the next tick, which a disposed poll would leave behind.
    void this._poll.stop();
    this._poll.dispose();
  }

  private _error: ApiError | null = null;
  private _loading = false;
  private _poll: Poll<void, ApiError>;
  private _refreshSeconds: number;
  private _visible = false;
}

/**
 * A section of the sidebar read at the status model's refresh interval, once the server has
 * answered its status and while the section is shown and `configured`.
 */
export abstract class PolledSection extends PolledModel {
  constructor(
    readonly status: StatusModel,
    name: string
  ) {
    super(name, status.refreshSeconds);
    status.changed.connect(this._onStatusChanged);
  }

  /** Whether the server's status lets the section read anything. */
  abstract get configured(): boolean;

  /** Whether the section has read something once. */
  abstract get loaded(): boolean;

  /** Read-only when the server or the user's settings say so: the writes are hidden. */
  get readOnly(): boolean {
    return this.status.readOnly;
  }

  /** Read again now. */
  refresh(): void {
    this.readNow();
  }

  protected get active(): boolean {
    return super.active && this.configured;
  }

  protected onDispose(): void {
    this.status.changed.disconnect(this._onStatusChanged);
    super.onDispose();
  }

  /** The status changed: follow its interval, and read at once the first time it allows. */
  private _onStatusChanged = (): void => {
    this.setInterval(this.status.refreshSeconds);
    if (!this.loaded) {
      this.wake();
    }
    this.emit();
  };
}
