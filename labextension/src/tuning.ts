/** State of the sidebar's Tuning section: the searches, and the one opened with its trials. */

import { ApiError } from './api';
import { asApiError } from './pipelines';
import { PolledSection } from './polledSection';
import { StatusModel } from './status';
import type { TuningDetail, TuningSummary, TuningTrial } from './models.generated';
import { fetchTuning, fetchTunings, stopTuning, TuningWhere } from './tuningApi';

/** How the trials table is ordered: as they started, or by the objective. */
export interface ITrialSort {
  by: 'trial' | 'metric';
  descending: boolean;
}

/** The trials in the table's order; trials without the objective last either way. */
export function sortTrials(trials: readonly TuningTrial[], sort: ITrialSort): TuningTrial[] {
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
export function canStop(search: TuningSummary): boolean {
  return search.state === 'Created' || search.state === 'Running';
}

/** The opened search: its last read, and what Stop is doing. */
export interface IOpenTuning {
  name: string;
  where: TuningWhere;
  detail: TuningDetail | null;
  error: ApiError | null;
  stopping: boolean;
  stopError: string | null;
}

/**
 * The Tuning section's model: the searches read at the sidebar's refresh interval while it is
 * shown (standing by while hidden), and the one opened read with them.
 */
export class TuningModel extends PolledSection {
  constructor(status: StatusModel) {
    super(status, 'jupyter-mlops:tuning');
  }

  /** Whether the server answered its status: local searches need nothing else. */
  get configured(): boolean {
    return this.status.report !== null;
  }

  get searches(): TuningSummary[] {
    return this._searches;
  }

  get namespace(): string | null {
    return this._namespace;
  }

  /** What a place (the cluster) said when it could not be read. */
  get sourceErrors(): Record<string, string> {
    return this._sourceErrors;
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

  /** Open a search's trials (closing them when it is already open). */
  async toggle(search: TuningSummary): Promise<void> {
    if (this._opened?.name === search.name && this._opened.where === search.where) {
      this._opened = null;
      this.emit();
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
    this.emit();
    await this._loadOpened();
  }

  /** Order the opened search's trials by a column (a second click flips the order). */
  sortBy(by: ITrialSort['by']): void {
    const direction = this._opened?.detail?.direction ?? 'maximize';
    this._sort = nextSort(this._sort, by, direction);
    this.emit();
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
      this.refresh();
    } catch (error) {
      this._update(open, { stopping: false, stopError: asApiError(error).message });
    }
  }

  private _update(which: IOpenTuning, change: Partial<IOpenTuning>): void {
    const current = this._opened;
    if (!current || current.name !== which.name || current.where !== which.where) {
      return;
    }
    this._opened = { ...current, ...change };
    this.emit();
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

  protected async load(): Promise<void> {
    const answer = await fetchTunings();
    this._searches = answer.experiments;
    this._namespace = answer.namespace;
    this._sourceErrors = answer.errors;
    this._loaded = true;
  }

  /** The opened search is read with the list. */
  protected afterLoad(): Promise<void> {
    return this._loadOpened();
  }

  private _loaded = false;
  private _namespace: string | null = null;
  private _opened: IOpenTuning | null = null;
  private _searches: TuningSummary[] = [];
  private _sort: ITrialSort = { by: 'trial', descending: false };
  private _sourceErrors: Record<string, string> = {};
}
