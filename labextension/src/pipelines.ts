/** State of the sidebar's Pipelines section: runs of both sources, kept live by the run pushes. */

import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { ApiError } from './api';
import {
  fetchPipelineExperiments,
  fetchPipelineRuns,
  fetchUploadedPipelines,
  fetchUploadedPipelineVersions,
  RunSource,
  RunStatus
} from './pipelinesApi';
import type {
  PipelineExperiment,
  PipelineRunRow,
  PipelineRunsPage,
  PipelineSourceError,
  UploadedPipeline,
  UploadedPipelineVersion
} from './models.generated';
import { Backoff } from './backoff';
import { ILiveMessage, LiveSocket } from './live';
import { ModelBase } from './modelBase';
import { StatusModel } from './status';

/** Rows asked for per source and page: a sidebar shows a screenful. */
export const RUNS_PAGE_SIZE = 20;

/** The fields the runs route sorts by. */
export type RunSortField = 'created_at' | 'finished_at' | 'name' | 'status';

/** The states a run can be in, in the order a filter lists them. */
export const RUN_STATUSES: readonly RunStatus[] = [
  'PENDING',
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'CANCELED'
];

/** States a run can no longer leave. */
export const FINISHED_STATES: ReadonlySet<RunStatus> = new Set(['SUCCEEDED', 'FAILED', 'CANCELED']);

/** How a state reads at a glance, with the health colours the cluster tables use. */
export const STATE_HEALTH: Record<RunStatus, string> = {
  PENDING: 'progress',
  RUNNING: 'progress',
  SUCCEEDED: 'ok',
  FAILED: 'error',
  CANCELED: 'done'
};

/** Words for a source, as the list marks each row. */
export const SOURCE_WORDS: Record<RunSource, string> = {
  local: 'local',
  cluster: 'cluster'
};

/** A run's key across sources: ids of two backends could meet. */
export function runKey(run: { source: RunSource; id: string }): string {
  return `${run.source}/${run.id}`;
}

/** Retries of a failed list wait this long at first, then twice as long. */
const FIRST_RETRY_MS = 2000;
const MAX_RETRY_MS = 60_000;

/** The Pipelines section's model: runs listed by REST, then changed by the tab's WebSocket. */
export class PipelinesModel extends ModelBase {
  constructor(
    readonly socket: LiveSocket,
    readonly status: StatusModel
  ) {
    super();
    status.changed.connect(this._onStatusChanged);
  }

  /** Emitted for every run a push changed, so that open run panels read it again. */
  get runChanged(): ISignal<this, PipelineRunRow> {
    return this._runChanged;
  }

  /** The runs to show, both sources merged in the chosen order. */
  get runs(): PipelineRunRow[] {
    const rows = [...this._rows.values()];
    const { field, descending } = this;
    const sign = descending ? -1 : 1;
    return rows.sort((a, b) => {
      const left = a[field] ?? '';
      const right = b[field] ?? '';
      // Never-finished runs sort as the oldest, as the server orders them.
      return sign * String(left).localeCompare(String(right)) || a.id.localeCompare(b.id);
    });
  }

  /** What each source that failed said (unreachable, 401, 403…), in its words. */
  get sourceErrors(): Partial<Record<RunSource | 'all', PipelineSourceError>> {
    return this._sourceErrors;
  }

  /** Why the list itself could not be read, or null. */
  get error(): ApiError | null {
    return this._error;
  }

  get loading(): boolean {
    return this._loading;
  }

  /** Whether the list was read once. */
  get loaded(): boolean {
    return this._loaded;
  }

  get source(): RunSource | 'all' {
    return this._source;
  }

  get statusFilter(): RunStatus | '' {
    return this._statusFilter;
  }

  get experiment(): string {
    return this._experiment;
  }

  get field(): RunSortField {
    return this._field;
  }

  get descending(): boolean {
    return this._descending;
  }

  /** Experiments of every source, for the experiment filter. */
  get experiments(): readonly PipelineExperiment[] {
    return this._experiments;
  }

  /** Pipelines uploaded to Kubeflow Pipelines; null until the list is first unfolded. */
  get uploaded(): readonly UploadedPipeline[] | null {
    return this._uploaded;
  }

  get uploadedError(): ApiError | null {
    return this._uploadedError;
  }

  /** A pipeline's versions, an error, or undefined until the pipeline is unfolded. */
  versionsOf(pipelineId: string): readonly UploadedPipelineVersion[] | ApiError | undefined {
    return this._versions.get(pipelineId);
  }

  /** Read the uploaded pipelines again; their versions are read again when unfolded. */
  async loadUploaded(): Promise<void> {
    this._uploadedError = null;
    this._versions.clear();
    try {
      this._uploaded = (await fetchUploadedPipelines()).pipelines;
    } catch (error) {
      this._uploadedError = asApiError(error);
    }
    this.emitSoon();
  }

  /** Read one pipeline's versions. */
  async loadVersions(pipelineId: string): Promise<void> {
    try {
      this._versions.set(pipelineId, (await fetchUploadedPipelineVersions(pipelineId)).versions);
    } catch (error) {
      this._versions.set(pipelineId, asApiError(error));
    }
    this.emitSoon();
  }

  /** Sources listed now: the cluster only when Kubeflow Pipelines is configured. */
  get sources(): RunSource[] {
    if (this._source !== 'all') {
      return [this._source];
    }
    return this.hasCluster ? ['local', 'cluster'] : ['local'];
  }

  /** Whether Kubeflow Pipelines is configured, so the source filter means something. */
  get hasCluster(): boolean {
    return this.status.report?.pipelines.mode === 'cluster';
  }

  /** Runs of a source beyond those listed, or 0. */
  more(source: RunSource): number {
    const page = this._pages[source];
    if (!page?.next_page_token) {
      return 0;
    }
    const shown = [...this._rows.values()].filter(r => r.source === source).length;
    return Math.max(page.total_size - shown, 1);
  }

  /** Read-only when the server says so or the user's settings ask for it. */
  get readOnly(): boolean {
    return this.status.readOnly;
  }

  /** Whether the sidebar is on screen: hidden, the runs stop being watched. */
  set visible(visible: boolean) {
    if (visible === this._visible) {
      return;
    }
    this._visible = visible;
    this._update();
  }

  setSource(source: RunSource | 'all'): void {
    if (source !== this._source) {
      this._source = source;
      void this.reload();
    }
  }

  setStatusFilter(status: RunStatus | ''): void {
    if (status !== this._statusFilter) {
      this._statusFilter = status;
      void this.reload();
    }
  }

  setExperiment(name: string): void {
    if (name !== this._experiment) {
      this._experiment = name;
      void this.reload();
    }
  }

  /** Sort by a field; the same field again turns the order round. */
  sortBy(field: RunSortField): void {
    if (field === this._field) {
      this._descending = !this._descending;
    } else {
      this._field = field;
      // Times read best newest first, words from A.
      this._descending = field === 'created_at' || field === 'finished_at';
    }
    void this.reload();
  }

  /** Read the first page of every source again, and the experiments. */
  async reload(): Promise<void> {
    const asked = ++this._generation;
    this._loading = true;
    this.emitSoon();
    this._retry.cancel();
    try {
      const answer = await fetchPipelineRuns(this._query(this._source, ''));
      if (asked !== this._generation) {
        return;
      }
      this._rows.clear();
      for (const row of answer.runs) {
        this._rows.set(runKey(row), row);
      }
      this._pages = answer.pages;
      this._sourceErrors = { ...answer.errors };
      this._error = null;
      this._loaded = true;
      this._retry.reset();
    } catch (error) {
      if (asked !== this._generation) {
        return;
      }
      this._error = asApiError(error);
      this._scheduleRetry();
    } finally {
      if (asked === this._generation) {
        this._loading = false;
        this.emitSoon();
      }
    }
    void this._loadExperiments();
  }

  /** Add the next page of one source's runs. */
  async loadMore(source: RunSource): Promise<void> {
    const token = this._pages[source]?.next_page_token;
    if (!token) {
      return;
    }
    const asked = this._generation;
    this._loading = true;
    this.emitSoon();
    try {
      const answer = await fetchPipelineRuns(this._query(source, token));
      if (asked !== this._generation) {
        return;
      }
      for (const row of answer.runs) {
        this._rows.set(runKey(row), row);
      }
      this._pages = { ...this._pages, ...answer.pages };
      this._error = null;
    } catch (error) {
      this._error = asApiError(error);
    } finally {
      this._loading = false;
      this.emitSoon();
    }
  }

  protected onDispose(): void {
    this._watch?.dispose();
    this._retry.dispose();
    this.status.changed.disconnect(this._onStatusChanged);
  }

  /** Watch the runs while the section is on screen; the first showing lists them. */
  private _update(): void {
    if (this.isDisposed) {
      return;
    }
    const active = this._visible && this.status.report !== null;
    if (!active) {
      this._watch?.dispose();
      this._watch = null;
      return;
    }
    if (!this._watch) {
      this._watch = this.socket.watchRuns(message => this._receive(message));
      void this.reload();
    }
  }

  private _query(source: RunSource | 'all', pageToken: string) {
    return {
      source,
      sort: `${this._field} ${this._descending ? 'desc' : 'asc'}`,
      status: this._statusFilter,
      experiment: this._experiment,
      pageSize: RUNS_PAGE_SIZE,
      pageToken
    };
  }

  private async _loadExperiments(): Promise<void> {
    try {
      const answer = await fetchPipelineExperiments();
      this._experiments = answer.experiments;
      this.emitSoon();
    } catch {
      // The runs list says why a source fails; the filter keeps what it had.
    }
  }

  /** A push of the run poller: changed rows, and errors of sources that failed or recovered. */
  private _receive(message: ILiveMessage): void {
    if (message.type === 'reopened') {
      // A new connection starts with every row again: nothing to do until it comes.
      return;
    }
    if (message.type === 'error') {
      this._sourceErrors = {
        ...this._sourceErrors,
        all: { reason: message.reason ?? 'error', message: message.message ?? '' }
      };
      this.emitSoon();
      return;
    }
    if (message.type !== 'runs') {
      return;
    }
    for (const row of message.runs ?? []) {
      const key = runKey(row);
      const known = this._rows.get(key);
      if (known && this._wanted(row)) {
        this._rows.set(key, row);
      } else if (known) {
        // It left the status filter (a run that ended, say).
        this._rows.delete(key);
      } else if (this._wanted(row) && this._withinPage(row)) {
        this._rows.set(key, row);
      }
      if (!known || known.status !== row.status || known.tasks_done !== row.tasks_done) {
        this._runChanged.emit(row);
      }
    }
    const errors = { ...this._sourceErrors };
    for (const [source, error] of Object.entries(message.errors ?? {})) {
      const name = source as RunSource | 'all';
      if (error) {
        errors[name] = error;
      } else {
        delete errors[name];
      }
    }
    this._sourceErrors = errors;
    this.emitSoon();
  }

  /** Whether a row passes the source, status and experiment filters. */
  private _wanted(row: PipelineRunRow): boolean {
    return (
      this.sources.includes(row.source) &&
      (!this._statusFilter || row.status === this._statusFilter) &&
      (!this._experiment || row.experiment === this._experiment)
    );
  }

  /** A new run belongs on screen when its source's list is complete or it sorts before its end. */
  private _withinPage(row: PipelineRunRow): boolean {
    if (!this._loaded) {
      return false;
    }
    if (!this._pages[row.source]?.next_page_token) {
      return true;
    }
    const same = this.runs.filter(r => r.source === row.source);
    const last = same[same.length - 1];
    if (!last) {
      return true;
    }
    const sign = this._descending ? -1 : 1;
    const field = this._field;
    return sign * String(row[field] ?? '').localeCompare(String(last[field] ?? '')) <= 0;
  }

  private _scheduleRetry(): void {
    if (this._visible && !this.isDisposed) {
      this._retry.schedule();
    }
  }

  private _onStatusChanged = (): void => {
    const mode = this.status.report?.pipelines.mode ?? '';
    const readOnly = this.readOnly;
    if (mode !== this._mode || readOnly !== this._wasReadOnly) {
      const first = this._mode === '';
      this._mode = mode;
      this._wasReadOnly = readOnly;
      if (first) {
        this._update();
      } else if (this._watch) {
        // Pipelines was configured or dropped: the sources listed change.
        void this.reload();
      }
      this.emitSoon();
    }
  };

  private _descending = true;
  private _error: ApiError | null = null;
  private _experiment = '';
  private _experiments: PipelineExperiment[] = [];
  private _field: RunSortField = 'created_at';
  private _generation = 0;
  private _loaded = false;
  private _loading = false;
  private _mode = '';
  private _pages: PipelineRunsPage['pages'] = {};
  private _retry = new Backoff({
    name: 'jupyter-mlops:pipelines',
    first: FIRST_RETRY_MS,
    max: MAX_RETRY_MS,
    run: () => void this.reload()
  });
  private _rows = new Map<string, PipelineRunRow>();
  private _runChanged = new Signal<this, PipelineRunRow>(this);
  private _source: RunSource | 'all' = 'all';
  private _sourceErrors: Partial<Record<RunSource | 'all', PipelineSourceError>> = {};
  private _statusFilter: RunStatus | '' = '';
  private _uploaded: UploadedPipeline[] | null = null;
  private _uploadedError: ApiError | null = null;
  private _versions = new Map<string, UploadedPipelineVersion[] | ApiError>();
  private _visible = false;
  private _wasReadOnly = false;
  private _watch: IDisposable | null = null;
}

/** Any failure as the `ApiError` the views show. */
export function asApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : new ApiError(0, 'unexpected', String(error));
}
