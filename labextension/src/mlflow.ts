/** State of the sidebar's MLflow section: experiments, a runs table, registered models. */

import { IPoll, Poll } from '@lumino/polling';

import { ApiError } from './api';
import {
  fetchMlflowExperiments,
  fetchMlflowRuns,
  fetchModelVersions,
  fetchRegisteredModels
} from './mlflowApi';
import { ModelBase } from './modelBase';
import type {
  MlflowExperiment,
  MlflowRegisteredModel,
  MlflowModelVersion,
  MlflowRunSummary
} from './models.generated';
import { asApiError } from './pipelines';
import { StatusModel } from './status';

/** Runs per page of the table. */
export const MLFLOW_PAGE_SIZE = 25;

/** Failed reads back off up to this many milliseconds between tries. */
const MAX_BACKOFF_MS = 5 * 60 * 1000;

/** Param and metric columns shown before the user chooses: enough to compare, few enough to fit. */
const DEFAULT_COLUMNS = 3;

/** Which runs of an experiment to list: the runs route's query. */
export interface IMlflowRunsQuery {
  filter: string;
  orderBy: string;
  pageToken: string;
  maxResults: number;
}

/** A column of the runs table: a run attribute, a param or a metric. */
export interface IRunColumn {
  kind: 'attribute' | 'param' | 'metric';
  key: string;
}

/** MLflow's name of a column in `order_by`; null when the server cannot sort by it. */
export function orderKey(column: IRunColumn): string | null {
  if (column.kind === 'attribute') {
    const names: Record<string, string> = {
      name: 'attributes.run_name',
      status: 'attributes.status',
      started: 'attributes.start_time'
    };
    return names[column.key] ?? null;
  }
  // Keys with spaces, dots or dashes need backquotes in MLflow's search syntax.
  const key = /^[A-Za-z_][A-Za-z0-9_]*$/.test(column.key) ? column.key : `\`${column.key}\``;
  return `${column.kind === 'param' ? 'params' : 'metrics'}.${key}`;
}

/** A page of something listed, with the answer's error in words. */
interface IListed<T> {
  items: T[];
  next: string | null;
  error: ApiError | null;
  loading: boolean;
}

/** The versions of a model that is unfolded. */
export interface IVersionsShown {
  versions: MlflowModelVersion[];
  error: ApiError | null;
}

/**
 * The MLflow section's model: every list is read on demand and paged; nothing unbounded.
 * MLflow pushes nothing, so a poll reads the shown pages again at the sidebar's refresh
 * interval, standing by while the sidebar or the browser tab is hidden.
 */
export class MlflowModel extends ModelBase {
  constructor(readonly status: StatusModel) {
    super();
    status.changed.connect(this._onStatusChanged);
    this._refreshSeconds = status.refreshSeconds;
    this._poll = new Poll<void, ApiError>({
      name: 'jupyter-mlops:mlflow',
      factory: () => this._tick(),
      frequency: this._frequency(),
      standby: () => (this._visible && this.configured ? 'when-hidden' : true)
    });
  }

  /** Whether MLflow is configured at all (a local store counts). */
  get configured(): boolean {
    const mode = this.status.report?.tracking.mode;
    return mode !== undefined && mode !== 'none';
  }

  // -- experiments ---------------------------------------------------------------------------

  get experimentSearch(): string {
    return this._experimentSearch;
  }

  get experiments(): IListed<MlflowExperiment> {
    return this._experiments;
  }

  /** The experiment whose runs are shown, or null. */
  get experiment(): MlflowExperiment | null {
    return this._experiment;
  }

  /** Search experiments whose name contains `text`. */
  async searchExperiments(text: string): Promise<void> {
    this._experimentSearch = text;
    await this._loadExperiments(false);
  }

  async moreExperiments(): Promise<void> {
    await this._loadExperiments(true);
  }

  /** Show an experiment's runs, from their first page. */
  selectExperiment(id: string): void {
    const found = this._experiments.items.find(e => e.id === id) ?? null;
    if (found?.id === this._experiment?.id) {
      return;
    }
    this._experiment = found;
    this._tokens = [''];
    this._selected.clear();
    this._chosen = null;
    void this.loadRuns();
  }

  // -- runs ----------------------------------------------------------------------------------

  get runs(): IListed<MlflowRunSummary> {
    return this._runs;
  }

  /** The filter the runs were read with; `runs.error` holds MLflow's words when it refused it. */
  get filter(): string {
    return this._filter;
  }

  get orderBy(): { column: IRunColumn; descending: boolean } {
    return this._orderBy;
  }

  /** Which page is shown, from 1. */
  get pageNumber(): number {
    return this._tokens.length;
  }

  /** Param and metric keys of the runs on the page. */
  get paramKeys(): string[] {
    return keysOf(this._runs.items, 'params');
  }

  get metricKeys(): string[] {
    return keysOf(this._runs.items, 'metrics');
  }

  /** The param and metric columns shown: chosen by the user, else the first few of each. */
  get columns(): IRunColumn[] {
    if (this._chosen) {
      return this._chosen;
    }
    return [
      ...this.paramKeys.slice(0, DEFAULT_COLUMNS).map(key => ({ kind: 'param' as const, key })),
      ...this.metricKeys.slice(0, DEFAULT_COLUMNS).map(key => ({ kind: 'metric' as const, key }))
    ];
  }

  /** Show or hide a param or metric column. */
  toggleColumn(column: IRunColumn): void {
    const shown = this.columns;
    const at = shown.findIndex(c => c.kind === column.kind && c.key === column.key);
    this._chosen = at >= 0 ? shown.filter((_, i) => i !== at) : [...shown, column];
    this.emit();
  }

  /** Runs ticked for comparison, by id. */
  get selected(): ReadonlySet<string> {
    return this._selected;
  }

  toggleSelected(id: string): void {
    if (this._selected.has(id)) {
      this._selected.delete(id);
    } else {
      this._selected.add(id);
    }
    this.emit();
  }

  /** The ticked runs that are on the page, with their names. */
  selectedRuns(): MlflowRunSummary[] {
    return this._runs.items.filter(run => this._selected.has(run.id));
  }

  /** Read the runs with a new filter, from the first page. */
  applyFilter(text: string): void {
    this._filter = text.trim();
    this._tokens = [''];
    void this.loadRuns();
  }

  /** Sort by a column; the same column again turns the order round. */
  sortBy(column: IRunColumn): void {
    if (orderKey(column) === null) {
      return;
    }
    const same =
      this._orderBy.column.kind === column.kind && this._orderBy.column.key === column.key;
    this._orderBy = {
      column,
      descending: same
        ? !this._orderBy.descending
        : column.kind !== 'attribute' || column.key === 'started'
    };
    this._tokens = [''];
    void this.loadRuns();
  }

  nextPage(): void {
    if (this._runs.next) {
      this._tokens.push(this._runs.next);
      void this.loadRuns();
    }
  }

  previousPage(): void {
    if (this._tokens.length > 1) {
      this._tokens.pop();
      void this.loadRuns();
    }
  }

  /** Read the shown page of runs again; `quiet` keeps the table as it is meanwhile. */
  async loadRuns(quiet = false): Promise<void> {
    const experiment = this._experiment;
    if (!experiment) {
      this._runs = { items: [], next: null, error: null, loading: false };
      this.emit();
      return;
    }
    const asked = ++this._runsGeneration;
    if (!quiet) {
      this._runs = { ...this._runs, loading: true };
      this.emit();
    }
    const order = orderKey(this._orderBy.column);
    try {
      const page = await fetchMlflowRuns(experiment.id, {
        filter: this._filter,
        orderBy: order ? `${order} ${this._orderBy.descending ? 'DESC' : 'ASC'}` : '',
        pageToken: this._tokens[this._tokens.length - 1],
        maxResults: MLFLOW_PAGE_SIZE
      });
      if (asked === this._runsGeneration) {
        this._runs = { items: page.runs, next: page.next_page_token, error: null, loading: false };
      }
    } catch (error) {
      if (asked === this._runsGeneration) {
        // Keep the last rows: a mistyped filter should not empty the table under the message.
        this._runs = { ...this._runs, error: asApiError(error), loading: false };
      }
    }
    this.emit();
  }

  // -- registered models ---------------------------------------------------------------------

  get models(): IListed<MlflowRegisteredModel> {
    return this._models;
  }

  get modelSearch(): string {
    return this._modelSearch;
  }

  /** Versions of the unfolded models. */
  versions(name: string): IVersionsShown | undefined {
    return this._versions.get(name);
  }

  async searchModels(text: string): Promise<void> {
    this._modelSearch = text;
    await this._loadModels(false);
  }

  async moreModels(): Promise<void> {
    await this._loadModels(true);
  }

  /** Unfold a model to show its versions, or fold it. */
  async toggleModel(name: string): Promise<void> {
    if (this._versions.has(name)) {
      this._versions.delete(name);
      this.emit();
      return;
    }
    this._versions.set(name, { versions: [], error: null });
    this.emit();
    await this._loadVersions(name);
  }

  private async _loadVersions(name: string): Promise<void> {
    let shown: IVersionsShown;
    try {
      const page = await fetchModelVersions(name);
      shown = { versions: page.versions, error: null };
    } catch (error) {
      shown = { versions: [], error: asApiError(error) };
    }
    // Folded meanwhile: stay folded.
    if (this._versions.has(name)) {
      this._versions.set(name, shown);
    }
    this.emit();
  }

  /** Read everything shown again. */
  async refresh(): Promise<void> {
    await Promise.all([this._loadExperiments(false), this._loadModels(false)]);
  }

  /** Whether the sidebar is on screen: showing it reads the lists, hidden the poll stands by. */
  set visible(visible: boolean) {
    if (visible === this._visible) {
      return;
    }
    this._visible = visible;
    this._start();
  }

  protected onDispose(): void {
    this._poll.dispose();
    this.status.changed.disconnect(this._onStatusChanged);
  }

  private _start(): void {
    if (!this._visible || !this.configured) {
      return;
    }
    if (!this._started) {
      this._started = true;
      void this.refresh();
    } else {
      // Back on screen: catch up now rather than at the next tick.
      void this._poll.refresh();
    }
  }

  private _frequency(): IPoll.Frequency {
    const interval = this._refreshSeconds * 1000;
    return { interval, backoff: true, max: Math.max(interval, MAX_BACKOFF_MS) };
  }

  /**
   * One poll: the first pages of experiments and models, the shown page of runs and the
   * unfolded versions, read again without a loading state (nothing flickers). Lists the user
   * paged further are left alone, so a tick never takes away what "More…" added.
   */
  private async _tick(): Promise<void> {
    if (!this._started) {
      return;
    }
    const reads: Promise<unknown>[] = [];
    if (this._experimentPages <= 1) {
      reads.push(this._loadExperiments(false, true));
    }
    if (this._modelPages <= 1) {
      reads.push(this._loadModels(false, true));
    }
    if (this._experiment) {
      reads.push(this.loadRuns(true));
    }
    for (const name of this._versions.keys()) {
      reads.push(this._loadVersions(name));
    }
    await Promise.all(reads);
    const error = this._experiments.error ?? this._models.error;
    if (error) {
      // The poll backs off while MLflow does not answer.
      throw error;
    }
  }

  private async _loadExperiments(more: boolean, quiet = false): Promise<void> {
    const asked = ++this._experimentsGeneration;
    const token = more ? (this._experiments.next ?? '') : '';
    if (!quiet) {
      this._experiments = { ...this._experiments, loading: true };
      this.emit();
    }
    try {
      const page = await fetchMlflowExperiments(this._experimentSearch, token);
      if (asked !== this._experimentsGeneration) {
        return;
      }
      const items = more ? [...this._experiments.items, ...page.experiments] : page.experiments;
      this._experimentPages = more ? this._experimentPages + 1 : 1;
      this._experiments = { items, next: page.next_page_token, error: null, loading: false };
      const kept = items.some(e => e.id === this._experiment?.id);
      if (!more && !kept && items.length > 0) {
        // The one shown left the search: show the likeliest to have runs, not MLflow's
        // empty "Default" when another exists.
        const first = items.find(e => e.name !== 'Default') ?? items[0];
        this.selectExperiment(first.id);
      }
    } catch (error) {
      if (asked === this._experimentsGeneration) {
        this._experiments = { ...this._experiments, error: asApiError(error), loading: false };
      }
    }
    this.emit();
  }

  private async _loadModels(more: boolean, quiet = false): Promise<void> {
    const asked = ++this._modelsGeneration;
    const token = more ? (this._models.next ?? '') : '';
    if (!quiet) {
      this._models = { ...this._models, loading: true };
      this.emit();
    }
    try {
      const page = await fetchRegisteredModels(this._modelSearch, token);
      if (asked !== this._modelsGeneration) {
        return;
      }
      const items = more ? [...this._models.items, ...page.models] : page.models;
      this._modelPages = more ? this._modelPages + 1 : 1;
      this._models = { items, next: page.next_page_token, error: null, loading: false };
    } catch (error) {
      if (asked === this._modelsGeneration) {
        this._models = { ...this._models, error: asApiError(error), loading: false };
      }
    }
    this.emit();
  }

  private _onStatusChanged = (): void => {
    if (this.status.refreshSeconds !== this._refreshSeconds) {
      this._refreshSeconds = this.status.refreshSeconds;
      this._poll.frequency = this._frequency();
    }
    if (this.configured !== this._wasConfigured) {
      this._wasConfigured = this.configured;
      this._start();
      this.emit();
    }
  };

  private _chosen: IRunColumn[] | null = null;
  private _experiment: MlflowExperiment | null = null;
  private _experimentSearch = '';
  private _experiments: IListed<MlflowExperiment> = empty();
  private _experimentsGeneration = 0;
  /** How many pages of experiments are listed: 1 unless the user asked for more. */
  private _experimentPages = 1;
  private _filter = '';
  private _modelSearch = '';
  private _models: IListed<MlflowRegisteredModel> = empty();
  private _modelsGeneration = 0;
  private _modelPages = 1;
  private _orderBy: { column: IRunColumn; descending: boolean } = {
    column: { kind: 'attribute', key: 'started' },
    descending: true
  };
  private _poll: Poll<void, ApiError>;
  private _refreshSeconds: number;
  private _runs: IListed<MlflowRunSummary> = empty();
  private _runsGeneration = 0;
  private _selected = new Set<string>();
  private _started = false;
  /** The page token of every page up to the shown one; '' for the first. */
  private _tokens: string[] = [''];
  private _versions = new Map<string, IVersionsShown>();
  private _visible = false;
  private _wasConfigured = false;
}

function empty<T>(): IListed<T> {
  return { items: [], next: null, error: null, loading: false };
}

/** Every param or metric key of some runs, sorted. */
function keysOf(runs: MlflowRunSummary[], field: 'params' | 'metrics'): string[] {
  const keys = new Set<string>();
  for (const run of runs) {
    for (const key of Object.keys(run[field])) {
      keys.add(key);
    }
  }
  return [...keys].sort();
}
