/** State of a main-area panel about MLflow runs: metric charts, a params diff, artifacts. */

import { ApiError } from './api';
import { fetchMetricHistory, fetchMlflowArtifacts, fetchMlflowRun } from './mlflowApi';
import { ModelBase } from './modelBase';
import type { MlflowArtifact, MlflowMetricHistory, MlflowRun } from './models.generated';
import { asApiError } from './pipelines';

/** Points asked for per line: about one per pixel of a chart's width. */
export const CHART_POINTS = 500;

/** Charts drawn at most; more metrics are listed to pick from. */
export const MAX_CHARTS = 12;

/** The runs a panel shows, with the names the sidebar knew them by. */
export interface IMlflowRunsRef {
  ids: string[];
  names: string[];
}

/** A stable key of a set of runs, for finding its open panel. */
export function mlflowRunsKey(ref: IMlflowRunsRef): string {
  return [...ref.ids].sort().join(',');
}

/** One param across the runs: its value in each (null where a run lacks it). */
export interface IParamRow {
  key: string;
  values: (string | null)[];
  differs: boolean;
}

/** One chart: a metric's history in each run that has it. */
export interface IChartShown {
  key: string;
  histories: MlflowMetricHistory[];
  error: ApiError | null;
  loading: boolean;
}

/** A folder's listing in a run's artifacts. */
export interface IFolderShown {
  artifacts: MlflowArtifact[];
  error: ApiError | null;
}

/** What a panel about one or several MLflow runs shows. */
export class MlflowRunsModel extends ModelBase {
  constructor(readonly ref: IMlflowRunsRef) {
    super();
    void this.reload();
  }

  /** The runs read, in the order asked. */
  get runs(): MlflowRun[] {
    return this._runs;
  }

  get error(): ApiError | null {
    return this._error;
  }

  get loading(): boolean {
    return this._loading;
  }

  /** Every metric any of the runs logged, sorted. */
  get metricKeys(): string[] {
    return union(this._runs.map(run => Object.keys(run.metrics)));
  }

  /** The metrics charted. */
  get charted(): string[] {
    return this._charted;
  }

  chart(key: string): IChartShown | undefined {
    return this._charts.get(key);
  }

  /** Chart a metric, or stop charting it. */
  toggleChart(key: string): void {
    if (this._charted.includes(key)) {
      this._charted = this._charted.filter(k => k !== key);
      this.emit();
      return;
    }
    this._charted = [...this._charted, key];
    void this._loadChart(key);
  }

  /** Every param of the runs, with whether the runs disagree on it. */
  get params(): IParamRow[] {
    const keys = union(this._runs.map(run => Object.keys(run.params)));
    return keys.map(key => {
      const values = this._runs.map(run => run.params[key] ?? null);
      return { key, values, differs: values.some(value => value !== values[0]) };
    });
  }

  /** Whether only the params that differ are listed. */
  get onlyDifferences(): boolean {
    return this._onlyDifferences;
  }

  set onlyDifferences(value: boolean) {
    this._onlyDifferences = value;
    this.emit();
  }

  /** A folder's listing of one run's artifacts ('' is the root), read when first unfolded. */
  folder(runId: string, path: string): IFolderShown | undefined {
    return this._folders.get(`${runId}/${path}`);
  }

  /** Whether a folder is unfolded. */
  isOpen(runId: string, path: string): boolean {
    return this._open.has(`${runId}/${path}`);
  }

  async toggleFolder(runId: string, path: string): Promise<void> {
    const key = `${runId}/${path}`;
    if (this._open.has(key)) {
      this._open.delete(key);
      this.emit();
      return;
    }
    this._open.add(key);
    this.emit();
    if (!this._folders.has(key)) {
      await this._loadFolder(runId, path);
    }
  }

  /** Read the runs again, then their charts and artifact roots. */
  async reload(): Promise<void> {
    this._loading = true;
    this.emit();
    try {
      this._runs = await Promise.all(this.ref.ids.map(id => fetchMlflowRun(id)));
      this._error = null;
    } catch (error) {
      this._error = asApiError(error);
    } finally {
      this._loading = false;
    }
    if (this._charted.length === 0) {
      this._charted = this.metricKeys.slice(0, MAX_CHARTS);
    }
    this.emit();
    this._folders.clear();
    await Promise.all([
      ...this._charted.map(key => this._loadChart(key)),
      ...this._runs.map(run => {
        this._open.add(`${run.id}/`);
        return this._loadFolder(run.id, '');
      })
    ]);
  }

  private async _loadChart(key: string): Promise<void> {
    const having = this._runs.filter(run => key in run.metrics);
    this._charts.set(key, { key, histories: [], error: null, loading: true });
    this.emit();
    try {
      const histories = await Promise.all(
        having.map(run => fetchMetricHistory(run.id, key, CHART_POINTS))
      );
      this._charts.set(key, { key, histories, error: null, loading: false });
    } catch (error) {
      this._charts.set(key, { key, histories: [], error: asApiError(error), loading: false });
    }
    this.emit();
  }

  private async _loadFolder(runId: string, path: string): Promise<void> {
    const key = `${runId}/${path}`;
    try {
      const artifacts = await fetchMlflowArtifacts(runId, path);
      this._folders.set(key, { artifacts, error: null });
    } catch (error) {
      this._folders.set(key, { artifacts: [], error: asApiError(error) });
    }
    this.emit();
  }

  private _charted: string[] = [];
  private _charts = new Map<string, IChartShown>();
  private _error: ApiError | null = null;
  private _folders = new Map<string, IFolderShown>();
  private _loading = false;
  private _onlyDifferences = false;
  private _open = new Set<string>();
  private _runs: MlflowRun[] = [];
}

function union(lists: string[][]): string[] {
  return [...new Set(lists.flat())].sort();
}
