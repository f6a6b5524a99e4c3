/** State of the sidebar's Tuning section: the searches, and the one opened with its trials. */

import { IPoll, Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { ApiError } from './api';
import { asApiError } from './pipelines';
import { StatusModel } from './status';
import {
  fetchTuning,
  fetchTunings,
  ITuningDetail,
  ITuningSummary,
  ITuningTrial,
  stopTuning,
  TuningWhere
} from './tuningApi';

/** Failed reads back off up to this many milliseconds between tries. */
const MAX_BACKOFF_MS = 5 * 60 * 1000;

/** How the trials table is ordered: as they started, or by the objective. */
export interface ITrialSort {
  by: 'trial' | 'metric';
  descending: boolean;
}

/** The trials in the table's order; trials without the objective last either way. */
export function sortTrials(trials: readonly ITuningTrial[], sort: ITrialSort): ITuningTrial[] {
  const indexed = trials.map((trial, index) => ({ trial, index }));
  const sign = sort.descending ? -1 : 1;
  indexed.sort((a, b) => {
    if (sort.by === 'trial') {
      return sign * (a.index - b.index);
    }
    const x = a.trial.objective;
    const y = b.trial.objective;
    if (x === null || y === null) {
      return x === y ? a.index - b.index : x === null ? 1 : -1;
    }
    return x === y ? a.index - b.index : sign * (x - y);
  });
  return indexed.map(item => item.trial);
}

/** The sort a click on a column gives: the other column starts best first, the same one flips. */
export function nextSort(current: ITrialSort, by: ITrialSort['by'], direction: string): ITrialSort {
  if (current.by === by) {
    return { by, descending: !current.descending };
  }
  return { by, descending: by === 'metric' ? direction === 'maximize' : false };
}

/** A duration in words: "42 s", "3 min 5 s", "1 h 2 min". */
export function durationWords(seconds: number | null): string {
  if (seconds === null) {
    return '';
  }
  const whole = Math.round(seconds);
  if (whole < 60) {
    return `${whole} s`;
  }
  if (whole < 3600) {
    return `${Math.floor(whole / 60)} min ${whole % 60} s`;
  }
  return `${Math.floor(whole / 3600)} h ${Math.floor((whole % 3600) / 60)} min`;
}

/** A metric's value in a few digits. */
export function metricWords(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : String(Number(value.toPrecision(4)));
}

/** A parameter's value as the table shows it. */
export function parameterWords(value: unknown): string {
  if (typeof value === 'number') {
    return String(Number(value.toPrecision(4)));
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Whether a search can still be stopped. */
export function canStop(search: ITuningSummary): boolean {
  return search.state === 'Created' || search.state === 'Running';
}

/** The opened search: its last read, and what Stop is doing. */
export interface IOpenTuning {
  name: string;
  where: TuningWhere;
  detail: ITuningDetail | null;
  error: ApiError | null;
  stopping: boolean;
  stopError: string | null;
}

/**
 * The Tuning section's model: the searches read at the sidebar's refresh interval while it is
 * shown (standing by while hidden), and the one opened read with them.
 */
export class TuningModel {
  constructor(readonly status: StatusModel) {
    status.changed.connect(this._onStatusChanged);
    this._refreshSeconds = status.refreshSeconds;
    this._poll = new Poll<void, ApiError>({
      name: 'jupyter-mlops:tuning',
      factory: () => this._load(),
      frequency: this._frequency(),
      standby: () => (this._visible && this.configured ? 'when-hidden' : true)
    });
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Whether the server answered its status: local searches need nothing else. */
  get configured(): boolean {
    return this.status.report !== null;
  }

  /** Read-only when the server or the user's settings say so: Stop is hidden. */
  get readOnly(): boolean {
    return this.status.readOnly;
  }

  get searches(): ITuningSummary[] {
    return this._searches;
  }

  get namespace(): string | null {
    return this._namespace;
  }

  /** What a place (the cluster) said when it could not be read. */
  get sourceErrors(): Record<string, string> {
    return this._sourceErrors;
  }

  get error(): ApiError | null {
    return this._error;
  }

  get loading(): boolean {
    return this._loading;
  }

  get loaded(): boolean {
    return this._loaded;
  }

  get opened(): IOpenTuning | null {
    return this._opened;
  }

  get sort(): ITrialSort {
    return this._sort;
  }

  set visible(visible: boolean) {
    if (visible === this._visible) {
      return;
    }
    this._visible = visible;
    if (visible) {
      void this._poll.refresh();
    }
  }

  refresh(): void {
    void this._poll.refresh();
  }

  /** Open a search's trials (closing them when it is already open). */
  async toggle(search: ITuningSummary): Promise<void> {
    if (this._opened?.name === search.name && this._opened.where === search.where) {
      this._opened = null;
      this._changed.emit();
      return;
    }
    this._opened = {
      name: search.name,
      where: search.where,
      detail: null,
      error: null,
      stopping: false,
      stopError: null
    };
    this._sort = { by: 'trial', descending: false };
    this._changed.emit();
    await this._loadOpened();
  }

  /** Order the opened search's trials by a column (a second click flips the order). */
  sortBy(by: ITrialSort['by']): void {
    const direction = this._opened?.detail?.direction ?? 'maximize';
    this._sort = nextSort(this._sort, by, direction);
    this._changed.emit();
  }

  /** Stop the opened search; the answer (or why not) goes in its panel. */
  async stop(): Promise<void> {
    const open = this._opened;
    if (!open || open.stopping) {
      return;
    }
    this._update(open, { stopping: true, stopError: null });
    try {
      const detail = await stopTuning(open.name, open.where);
      this._update(open, { stopping: false, detail });
      void this._poll.refresh();
    } catch (error) {
      this._update(open, { stopping: false, stopError: asApiError(error).message });
    }
  }

  get isDisposed(): boolean {
    return this._poll.isDisposed;
  }

  dispose(): void {
    this.status.changed.disconnect(this._onStatusChanged);
    this._poll.dispose();
    Signal.clearData(this);
  }

  private _update(which: IOpenTuning, change: Partial<IOpenTuning>): void {
    const current = this._opened;
    if (!current || current.name !== which.name || current.where !== which.where) {
      return;
    }
    this._opened = { ...current, ...change };
    this._changed.emit();
  }

  private async _loadOpened(): Promise<void> {
    const open = this._opened;
    if (!open) {
      return;
    }
    try {
      const detail = await fetchTuning(open.name, open.where);
      this._update(open, { detail, error: null });
    } catch (error) {
      this._update(open, { error: asApiError(error) });
    }
  }

  private async _load(): Promise<void> {
    this._loading = true;
    this._changed.emit();
    try {
      const answer = await fetchTunings();
      this._searches = answer.experiments;
      this._namespace = answer.namespace;
      this._sourceErrors = answer.errors;
      this._error = null;
      this._loaded = true;
      await this._loadOpened();
    } catch (error) {
      this._error = asApiError(error);
      throw this._error;
    } finally {
      this._loading = false;
      this._changed.emit();
    }
  }

  private _frequency(): IPoll.Frequency {
    const interval = this._refreshSeconds * 1000;
    return { interval, backoff: true, max: Math.max(interval, MAX_BACKOFF_MS) };
  }

  private _onStatusChanged = (): void => {
    const seconds = this.status.refreshSeconds;
    if (seconds !== this._refreshSeconds) {
      this._refreshSeconds = seconds;
      this._poll.frequency = this._frequency();
    }
    if (this.configured && !this._loaded && this._visible) {
      void this._poll.refresh();
    }
    this._changed.emit();
  };

  private _changed = new Signal<this, void>(this);
  private _error: ApiError | null = null;
  private _loaded = false;
  private _loading = false;
  private _namespace: string | null = null;
  private _opened: IOpenTuning | null = null;
  private _poll: Poll<void, ApiError>;
  private _refreshSeconds: number;
  private _searches: ITuningSummary[] = [];
  private _sort: ITrialSort = { by: 'trial', descending: false };
  private _sourceErrors: Record<string, string> = {};
  private _visible = false;
}
