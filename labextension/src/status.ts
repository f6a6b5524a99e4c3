/** State of the sidebar: the last status report, the last error, and the poll that refreshes them. */

import { IPoll, Poll } from '@lumino/polling';

import { ApiError, fetchStatus, StatusReport } from './api';
import { ModelBase } from './modelBase';

/** Refresh interval in seconds when the settings say nothing. */
export const DEFAULT_REFRESH_SECONDS = 10;

/** The shortest refresh interval the settings accept, in seconds. */
export const MIN_REFRESH_SECONDS = 2;

/** Failed requests back off up to this many milliseconds between tries. */
const MAX_BACKOFF_MS = 5 * 60 * 1000;

/** Live status of the namespace, Pipelines and MLflow, as the server reports it. */
export class StatusModel extends ModelBase {
  constructor() {
    super();
    this._poll = new Poll<StatusReport, ApiError>({
      name: 'jupyter-mlops:status',
      factory: () => this._load(false),
      frequency: this._frequency(),
      // Nobody sees a hidden panel: spare the server until it is shown again.
      standby: () => (this._visible ? 'when-hidden' : true)
    });
  }

  /** The last report, kept while later requests fail so the user still sees what was known. */
  get report(): StatusReport | null {
    return this._report;
  }

  /** The last request's failure in words, or null when it succeeded. */
  get error(): ApiError | null {
    return this._error;
  }

  /** True while a request is on its way. */
  get loading(): boolean {
    return this._loading;
  }

  /** When the last report arrived. */
  get updatedAt(): Date | null {
    return this._updatedAt;
  }

  /** Seconds between refreshes. */
  get refreshSeconds(): number {
    return this._refreshSeconds;
  }

  set refreshSeconds(seconds: number) {
    const valid = Number.isFinite(seconds)
      ? Math.max(MIN_REFRESH_SECONDS, seconds)
      : DEFAULT_REFRESH_SECONDS;
    if (valid === this._refreshSeconds) {
      return;
    }
    this._refreshSeconds = valid;
    this._poll.frequency = this._frequency();
    // The tick already scheduled keeps the old interval: start the new rhythm now.
    void this._poll.refresh();
    this.emit();
  }

  /** True when the user's settings ask to hide actions, whatever the server allows. */
  get readOnlySetting(): boolean {
    return this._readOnlySetting;
  }

  set readOnlySetting(value: boolean) {
    if (value === this._readOnlySetting) {
      return;
    }
    this._readOnlySetting = value;
    this.emit();
  }

  /** Read-only when the server says so or the user's settings ask for it. */
  get readOnly(): boolean {
    return this._readOnlySetting || (this._report?.read_only ?? false);
  }

  /** Whether the panel is on screen; a hidden panel stands by, and showing it refreshes. */
  set visible(visible: boolean) {
    if (visible === this._visible) {
      return;
    }
    this._visible = visible;
    if (visible) {
      void this._poll.refresh();
    }
  }

  /** Ask the server to check every backend again now, bypassing its cache. */
  async refresh(): Promise<void> {
    try {
      await this._load(true);
    } catch {
      // `_load` has already put the failure in `error` for the view.
    }
  }

  protected onDispose(): void {
    this._poll.dispose();
  }

  private _frequency(): IPoll.Frequency {
    const interval = this._refreshSeconds * 1000;
    return { interval, backoff: true, max: Math.max(interval, MAX_BACKOFF_MS) };
  }

  /** Fetch the status; record the outcome for the view and let the poll see failures to back off. */
  private async _load(fresh: boolean): Promise<StatusReport> {
    this._loading = true;
    this.emit();
    try {
      const report = await fetchStatus(fresh);
      this._report = report;
      this._error = null;
      this._updatedAt = new Date();
      return report;
    } catch (error) {
      this._error =
        error instanceof ApiError ? error : new ApiError(0, 'unexpected', String(error));
      throw this._error;
    } finally {
      this._loading = false;
      this.emit();
    }
  }

  private _error: ApiError | null = null;
  private _loading = false;
  private _poll: Poll<StatusReport, ApiError>;
  private _readOnlySetting = false;
  private _refreshSeconds = DEFAULT_REFRESH_SECONDS;
  private _report: StatusReport | null = null;
  private _updatedAt: Date | null = null;
  private _visible = false;
}
