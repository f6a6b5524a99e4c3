/** State of a main-area panel about one pipeline run: its tasks, a task's log, and actions. */

import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { ApiError } from './api';
import type { Finding } from './models.generated';
import {
  fetchPipelineRun,
  fetchTaskFindings,
  fetchTaskLog,
  retryPipelineRun,
  RunSource,
  terminatePipelineRun
} from './pipelinesApi';
import type {
  PipelineMlflowRun,
  PipelineRunChanged,
  PipelineRunDetail,
  PipelineRunRow,
  PipelineTask
} from './models.generated';
import { ActionModel } from './actionModel';
import { Backoff } from './backoff';
import { asApiError, FINISHED_STATES, PipelinesModel, runKey } from './pipelines';

/** The run a panel shows. */
export interface IRunRef {
  source: RunSource;
  id: string;
  /** Shown in the tab before the run is read. */
  name: string;
}

/** What runs the extension's commands: the application's command registry. */
export interface ICommandRunner {
  execute(id: string, args?: ReadonlyPartialJSONObject): Promise<unknown>;
}

/** Opens MLflow runs in their panel, compared when several; args `ids` and `names`. */
export const OPEN_MLFLOW_RUNS = 'jupyter-mlops:open-mlflow-runs';

/** Opens a pipeline run's panel; args `source`, `id`, `name`. */
export const OPEN_PIPELINE_RUN = 'jupyter-mlops:open-pipeline-run';

/** A run that goes on is read again this often, whether or not the sidebar watches. */
const FOLLOW_MS = 3000;

/** What a panel about one run shows, read again while the run goes on. */
export class PipelineRunModel extends ActionModel {
  constructor(
    readonly ref: IRunRef,
    readonly pipelines: PipelinesModel
  ) {
    super();
    pipelines.runChanged.connect(this._onRunChanged);
    pipelines.changed.connect(this.emit);
    void this.reload();
  }

  get run(): PipelineRunDetail | null {
    return this._run;
  }

  get error(): ApiError | null {
    return this._error;
  }

  get loading(): boolean {
    return this._loading;
  }

  /** Whether the run can still change. */
  get finished(): boolean {
    return this._run !== null && FINISHED_STATES.has(this._run.status);
  }

  /** The task whose log and values are shown. */
  get task(): PipelineTask | null {
    return this._run?.tasks.find(t => t.id === this._taskId) ?? null;
  }

  get log(): string | null {
    return this._log;
  }

  get logError(): ApiError | null {
    return this._logError;
  }

  /**
   * What the Doctor found about the shown task's pod, when the task failed on a cluster;
   * null when there is nothing to ask (a local task, no pod) or no answer yet.
   */
  get taskFindings(): Finding[] | null {
    return this._findings;
  }

  /** Why the task's pod could not be examined (a 404: the pod is gone), or null. */
  get taskFindingsError(): ApiError | null {
    return this._findingsError;
  }

  /** The MLflow runs recorded for the run, its own first; null when there is no answer yet. */
  get mlflowLinks(): PipelineMlflowRun[] | null {
    const found = this._run?.mlflow;
    return Array.isArray(found) ? found : null;
  }

  /** Why MLflow could not say which runs it recorded, in words; null when it could. */
  get mlflowError(): string | null {
    const found = this._run?.mlflow;
    return found && !Array.isArray(found) ? found.message : null;
  }

  /** Actions are hidden when the server or the user's settings say read-only. */
  get readOnly(): boolean {
    return this.pipelines.readOnly;
  }

  /** Read the run again, and the shown task's log if the task may have printed more. */
  async reload(): Promise<void> {
    this._follow.cancel();
    this._loading = true;
    this.emit();
    const before = this.task?.state;
    try {
      this._run = await fetchPipelineRun(this.ref.source, this.ref.id);
      this._error = null;
    } catch (error) {
      this._error = asApiError(error);
    } finally {
      this._loading = false;
    }
    if (this.isDisposed) {
      return;
    }
    if (this._taskId === null && this._run && this._run.tasks.length > 0) {
      // The task that went wrong, else the one running, else the first: what a user looks at.
      const tasks = this._run.tasks;
      const pick =
        tasks.find(t => t.state === 'FAILED') ?? tasks.find(t => t.state === 'RUNNING') ?? tasks[0];
      this._taskId = pick.id;
    }
    const task = this.task;
    if (task && (this._log === null || before !== task.state || !FINISHED_STATES.has(task.state))) {
      await Promise.all([this._loadLog(task.id), this._loadFindings(task)]);
    }
    if (!this.finished && !this.isDisposed) {
      this._follow.schedule();
    }
    this.emit();
  }

  /** Show a task's values and log. */
  selectTask(id: string): void {
    if (id === this._taskId) {
      return;
    }
    this._taskId = id;
    this._log = null;
    this._logError = null;
    this._findings = null;
    this._findingsError = null;
    this.emit();
    const task = this.task;
    void Promise.all([this._loadLog(id), task ? this._loadFindings(task) : null]).then(this.emit);
  }

  /** Stop the run. */
  async terminate(): Promise<void> {
    await this.act(async () => {
      const stopped = await terminatePipelineRun(this.ref.source, this.ref.id);
      this._run = this._keepLinks(stopped);
      return `Run ${stopped.name} is being stopped.`;
    });
    void this.reload();
  }

  /** Run it again; a local run starts again as a new run, a cluster run in place. */
  async retry(): Promise<void> {
    await this.act(async () => {
      const again = await retryPipelineRun(this.ref.source, this.ref.id);
      if (again.id === this.ref.id) {
        this._run = this._keepLinks(again);
        return `Run ${again.name} runs again.`;
      }
      return `Started again as a new run: ${again.name} (${again.id}).`;
    });
    void this.reload();
  }

  protected onDispose(): void {
    this._follow.dispose();
    this.pipelines.runChanged.disconnect(this._onRunChanged);
    this.pipelines.changed.disconnect(this.emit);
  }

  private async _loadLog(taskId: string): Promise<void> {
    try {
      const text = await fetchTaskLog(this.ref.source, this.ref.id, taskId);
      if (taskId === this._taskId) {
        this._log = text;
        this._logError = null;
      }
    } catch (error) {
      if (taskId === this._taskId) {
        this._logError = asApiError(error);
      }
    }
  }

  /**
   * Ask the Doctor why a failed cluster task failed: its pod's diagnosis, or, once the pod is
   * gone, its last known state. A local task shows its error text in its log.
   */
  private async _loadFindings(task: PipelineTask): Promise<void> {
    if (this.ref.source !== 'cluster' || task.state !== 'FAILED') {
      this._findings = null;
      this._findingsError = null;
      return;
    }
    try {
      const report = await fetchTaskFindings(this.ref.source, this.ref.id, task.id);
      if (task.id === this._taskId) {
        this._findings = report.findings;
        this._findingsError = null;
      }
    } catch (error) {
      if (task.id === this._taskId) {
        const failed = asApiError(error);
        this._findings = null;
        // No cluster configured or reachable (503): the task's log is all there is to show.
        this._findingsError = failed.status === 503 ? null : failed;
      }
    }
  }

  /**
   * The run an action answered, with the MLflow runs read before: the action's answer has
   * only the Pipelines server's own MLflow link, and the next read brings the list again.
   */
  private _keepLinks(changed: PipelineRunChanged): PipelineRunDetail {
    return { ...changed, mlflow: this._run?.mlflow ?? [] };
  }

  /** A push about this run: read it now rather than at the next follow tick. */
  private _onRunChanged = (_: PipelinesModel, row: PipelineRunRow): void => {
    if (runKey(row) === runKey(this.ref) && !this._loading) {
      void this.reload();
    }
  };

  private _error: ApiError | null = null;
  private _findings: Finding[] | null = null;
  private _findingsError: ApiError | null = null;
  // A steady wait (first and max alike): the run is read again every few seconds.
  private _follow = new Backoff({
    name: 'jupyter-mlops:pipeline-run',
    first: FOLLOW_MS,
    max: FOLLOW_MS,
    run: () => void this.reload()
  });
  private _loading = false;
  private _log: string | null = null;
  private _logError: ApiError | null = null;
  private _run: PipelineRunDetail | null = null;
  private _taskId: string | null = null;
}
