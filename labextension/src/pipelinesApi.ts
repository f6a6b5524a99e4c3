/** Typed requests to the `mlops/api/pipelines/` routes: local and cluster runs side by side. */

import { query, request } from './api';
import type { DoctorReport } from './models.generated';

/** Where a run lives: on this machine (`kfp.local`) or in Kubeflow Pipelines. */
export type RunSource = 'local' | 'remote';

/** The state of a run or of one of its tasks, with Kubeflow Pipelines v2 names. */
export type RunStatus = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELED';

/** The states a run can be in, in the order a filter lists them. */
export const RUN_STATUSES: readonly RunStatus[] = [
  'PENDING',
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'CANCELED'
];

/** One row of the runs list. */
export interface IPipelineRunSummary {
  id: string;
  name: string;
  pipeline_name: string;
  experiment: string;
  status: RunStatus;
  backend: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  tasks_done: number;
  tasks_total: number;
  url: string | null;
  source: RunSource;
}

/** One step of a run. */
export interface IPipelineTask {
  id: string;
  name: string;
  state: RunStatus;
  started_at: string | null;
  finished_at: string | null;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
  pod: string | null;
  /** Names of the tasks that must finish before this one starts. */
  depends_on: string[];
}

/** `GET pipelines/runs/ID`: a run with its tasks, parameters, outputs and links. */
export interface IPipelineRun extends IPipelineRunSummary {
  parameters: Record<string, unknown>;
  outputs: Record<string, unknown>;
  tasks: IPipelineTask[];
  error: string | null;
  retry_of: string | null;
  /** The Kubeflow dashboard's page; `mlflow`: the MLflow run the Pipelines server made. */
  links: { dashboard?: string; mlflow?: string };
  /** The MLflow runs recorded for this run, or why MLflow could not be read. */
  mlflow?: IPipelineMlflowLink[] | ISourceError;
}

/** An MLflow run recorded for a pipeline run: the run's own (`task` null), or one task's. */
export interface IPipelineMlflowLink {
  mlflow_run_id: string;
  experiment_id: string;
  name: string;
  task: string | null;
  status: string;
}

/** What a source that failed said, as the error envelope of the routes. */
export interface ISourceError {
  reason: string;
  message: string;
}

/** `GET pipelines/runs`: rows of each source, its next page, and what failed. */
export interface IPipelineRunsAnswer {
  runs: IPipelineRunSummary[];
  pages: Partial<Record<RunSource, { next_page_token: string; total_size: number }>>;
  errors: Partial<Record<RunSource, ISourceError>>;
}

/** Which runs to list. */
export interface IPipelineRunsQuery {
  source: RunSource | 'all';
  sort: string;
  status: RunStatus | '';
  experiment: string;
  pageSize: number;
  pageToken: string;
}

/** An experiment of one source. */
export interface IPipelineExperiment {
  id: string;
  name: string;
  description: string;
  created_at: string;
  source: RunSource;
}

/** `GET pipelines/experiments`. */
export interface IPipelineExperimentsAnswer {
  experiments: IPipelineExperiment[];
  errors: Partial<Record<RunSource, ISourceError>>;
}

/** A pipeline uploaded to Kubeflow Pipelines. */
export interface IUploadedPipeline {
  id: string;
  name: string;
  display_name: string;
  description: string;
  created_at: string;
  namespace: string;
}

/** One uploaded version of a pipeline. */
export interface IUploadedPipelineVersion {
  id: string;
  pipeline_id: string;
  name: string;
  display_name: string;
  description: string;
  created_at: string;
}

/** `GET pipelines/pipelines`: one page of uploaded pipelines. */
export interface IUploadedPipelinesAnswer {
  pipelines: IUploadedPipeline[];
  next_page_token: string;
  total_size: number;
}

/** `GET pipelines/pipelines/ID/versions`: one page of a pipeline's versions. */
export interface IUploadedPipelineVersionsAnswer {
  versions: IUploadedPipelineVersion[];
  next_page_token: string;
  total_size: number;
}

/** A push of the `watch-runs` channel: changed rows, ids that left, errors by source. */
export interface IRunsPush {
  runs: IPipelineRunSummary[];
  gone: string[];
  errors: Partial<Record<RunSource | 'all', ISourceError | null>>;
}

/** Path of one run's route; the source tells the server which backend holds it. */
function runPath(source: RunSource, id: string, sub = ''): string {
  const parts = ['pipelines', 'runs', encodeURIComponent(id)];
  if (sub) {
    parts.push(sub);
  }
  return parts.join('/') + query({ source });
}

/** `GET /mlops/api/pipelines/runs`: one page of each source asked for. */
export function fetchPipelineRuns(q: IPipelineRunsQuery): Promise<IPipelineRunsAnswer> {
  return request<IPipelineRunsAnswer>(
    'pipelines/runs' +
      query({
        source: q.source,
        sort: q.sort,
        status: q.status,
        experiment: q.experiment,
        page_size: String(q.pageSize),
        page_token: q.pageToken
      })
  );
}

/** `GET /mlops/api/pipelines/experiments`. */
export function fetchPipelineExperiments(): Promise<IPipelineExperimentsAnswer> {
  return request<IPipelineExperimentsAnswer>('pipelines/experiments');
}

/** `GET /mlops/api/pipelines/pipelines`: pipelines uploaded to Kubeflow Pipelines. */
export function fetchUploadedPipelines(): Promise<IUploadedPipelinesAnswer> {
  return request<IUploadedPipelinesAnswer>('pipelines/pipelines');
}

/** `GET /mlops/api/pipelines/pipelines/ID/versions`. */
export function fetchUploadedPipelineVersions(
  pipelineId: string
): Promise<IUploadedPipelineVersionsAnswer> {
  return request<IUploadedPipelineVersionsAnswer>(
    `pipelines/pipelines/${encodeURIComponent(pipelineId)}/versions`
  );
}

/** `GET /mlops/api/pipelines/runs/ID`. */
export function fetchPipelineRun(source: RunSource, id: string): Promise<IPipelineRun> {
  return request<IPipelineRun>(runPath(source, id));
}

/** `GET /mlops/api/pipelines/runs/ID/tasks/TASK/log`: what the task printed. */
export async function fetchTaskLog(source: RunSource, id: string, task: string): Promise<string> {
  const answer = await request<{ text: string }>(
    ['pipelines', 'runs', encodeURIComponent(id), 'tasks', encodeURIComponent(task), 'log'].join(
      '/'
    ) + query({ source })
  );
  return answer.text;
}

/**
 * `GET /mlops/api/pipelines/runs/ID/tasks/TASK/findings`: why a failed cluster task failed,
 * from its pod, or the task's last known state once the pod is gone.
 */
export function fetchTaskFindings(
  source: RunSource,
  id: string,
  task: string
): Promise<DoctorReport> {
  return request<DoctorReport>(
    runPath(source, id, ['tasks', encodeURIComponent(task), 'findings'].join('/'))
  );
}

/** `POST /mlops/api/pipelines/runs/ID/terminate`. */
export function terminatePipelineRun(source: RunSource, id: string): Promise<IPipelineRun> {
  return request<IPipelineRun>(runPath(source, id, 'terminate'), { method: 'POST', body: '{}' });
}

/** `POST /mlops/api/pipelines/runs/ID/retry`. */
export function retryPipelineRun(source: RunSource, id: string): Promise<IPipelineRun> {
  return request<IPipelineRun>(runPath(source, id, 'retry'), { method: 'POST', body: '{}' });
}
