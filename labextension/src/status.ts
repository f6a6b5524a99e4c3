/** State of the sidebar: the last status report, the last error, and the poll that refreshes them. */

import { fetchStatus } from './api';
import type { StatusReport } from './models.generated';
import { PolledModel } from './polledSection';

/** Refresh interval in seconds when the settings say nothing. */
export const DEFAULT_REFRESH_SECONDS = 10;

/** The shortest refresh interval the settings accept, in seconds. */
export const MIN_REFRESH_SECONDS = 2;

/** Live status of the namespace, Pipelines and MLflow, as the server reports it. */
export class StatusModel extends PolledModel {
  constructor() {
    super('jupyter-mlops:status', DEFAULT_REFRESH_SECONDS);
  }

  /** The last report, kept while later requests fail so the user still sees what was known. */
  get report(): StatusReport | null {
    return this._report;
  }

  /** When the last report arrived. */
  get updatedAt(): Date | null {
    return this._updatedAt;
  }

  /** Seconds between refreshes. */
  get refreshSeconds(): number {
    return this.interval;
  }

  set refreshSeconds(seconds: number) {
    const valid = Number.isFinite(seconds)
      ? Math.max(MIN_REFRESH_SECONDS, seconds)
      : DEFAULT_REFRESH_SECONDS;
    if (!this.setInterval(valid)) {
      return;
    }
    // The tick already scheduled keeps the old interval: start the new rhythm now.
    this.readNow();
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

  /** Ask the server to check every backend again now, bypassing its cache. */
  async refresh(): Promise<void> {
    try {
      await this.track(() => this._fetch(true));
    } catch {
      // `track` has already put the failure in `error` for the view.
    }
  }

  protected load(): Promise<void> {
    return this._fetch(false);
  }

  private async _fetch(fresh: boolean): Promise<void> {
    this._report = await fetchStatus(fresh);
    this._updatedAt = new Date();
  }

  private _readOnlySetting = false;
  private _report: StatusReport | null = null;
  private _updatedAt: Date | null = null;
}
