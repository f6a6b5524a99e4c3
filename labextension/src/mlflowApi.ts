/** Typed requests to the `mlops/api/mlflow/` routes: experiments, runs, metric histories, artifacts, models. */

import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { API_ROOT, query, request } from './api';

/** An MLflow experiment. */
export interface IMlflowExperiment {
  id: string;
  name: string;
  lifecycle_stage: string;
  artifact_location: string;
  created_at: string | null;
  updated_at: string | null;
  tags: Record<string, string>;
}

/** `GET mlflow/experiments`. */
export interface IMlflowExperimentPage {
  experiments: IMlflowExperiment[];
  next_page_token: string | null;
}

/** An MLflow run as one row of the runs table. */
export interface IMlflowRunSummary {
  id: string;
  name: string;
  experiment_id: string;
  status: string;
  user: string;
  started_at: string | null;
  ended_at: string | null;
  params: Record<string, string>;
  metrics: Record<string, number | null>;
}

/** `GET mlflow/runs/ID`: every param, latest metric and tag. */
export interface IMlflowRun extends IMlflowRunSummary {
  lifecycle_stage: string;
  artifact_uri: string;
  tags: Record<string, string>;
}

/** `GET mlflow/experiments/ID/runs`. */
export interface IMlflowRunPage {
  experiment_id: string;
  runs: IMlflowRunSummary[];
  next_page_token: string | null;
}

/** Which runs of an experiment to list. */
export interface IMlflowRunsQuery {
  filter: string;
  orderBy: string;
  pageToken: string;
  maxResults: number;
}

/** One logged value of a metric. */
export interface IMetricPoint {
  step: number;
  timestamp: number;
  value: number | null;
}

/** `GET mlflow/runs/ID/history`: a metric over steps, possibly downsampled. */
export interface IMetricHistory {
  run_id: string;
  key: string;
  total: number;
  downsampled: boolean;
  points: IMetricPoint[];
}

/** A file or folder among a run's artifacts. */
export interface IMlflowArtifact {
  path: string;
  is_dir: boolean;
  size: number | null;
}

/** A registered model; `aliases` maps each alias to a version. */
export interface IRegisteredModel {
  name: string;
  description: string;
  created_at: string | null;
  updated_at: string | null;
  aliases: Record<string, string>;
  tags: Record<string, string>;
}

/** `GET mlflow/models`. */
export interface IRegisteredModelPage {
  models: IRegisteredModel[];
  next_page_token: string | null;
}

/** A version of a registered model. */
export interface IModelVersion {
  name: string;
  version: string;
  run_id: string | null;
  source: string;
  status: string;
  description: string;
  created_at: string | null;
  updated_at: string | null;
  aliases: string[];
  tags: Record<string, string>;
}

/** `GET mlflow/models/NAME/versions`. */
export interface IModelVersionPage {
  name: string;
  versions: IModelVersion[];
  next_page_token: string | null;
}

/** `GET /mlops/api/mlflow/experiments`: experiments whose name contains `name`. */
export function fetchMlflowExperiments(
  name: string,
  pageToken = ''
): Promise<IMlflowExperimentPage> {
  return request<IMlflowExperimentPage>(
    'mlflow/experiments' + query({ name, page_token: pageToken, max_results: '100' })
  );
}

/** `GET /mlops/api/mlflow/experiments/ID/runs`: one page, filtered with MLflow's syntax. */
export function fetchMlflowRuns(
  experimentId: string,
  q: IMlflowRunsQuery
): Promise<IMlflowRunPage> {
  return request<IMlflowRunPage>(
    `mlflow/experiments/${encodeURIComponent(experimentId)}/runs` +
      query({
        filter: q.filter,
        order_by: q.orderBy,
        page_token: q.pageToken,
        max_results: String(q.maxResults)
      })
  );
}

/** `GET /mlops/api/mlflow/runs/ID`. */
export function fetchMlflowRun(id: string): Promise<IMlflowRun> {
  return request<IMlflowRun>(`mlflow/runs/${encodeURIComponent(id)}`);
}

/** `GET /mlops/api/mlflow/runs/ID/history`: at most `points` values of metric `key`. */
export function fetchMetricHistory(
  id: string,
  key: string,
  points: number
): Promise<IMetricHistory> {
  return request<IMetricHistory>(
    `mlflow/runs/${encodeURIComponent(id)}/history` + query({ key, points: String(points) })
  );
}

/** `GET /mlops/api/mlflow/runs/ID/artifacts`: the files and folders under `path`. */
export async function fetchMlflowArtifacts(id: string, path: string): Promise<IMlflowArtifact[]> {
  const answer = await request<{ artifacts: IMlflowArtifact[] }>(
    `mlflow/runs/${encodeURIComponent(id)}/artifacts` + query({ path })
  );
  return answer.artifacts;
}

/** Where the browser downloads one artifact file (a plain link: the session cookie signs it). */
export function mlflowArtifactUrl(id: string, path: string): string {
  const settings = ServerConnection.makeSettings();
  return (
    URLExt.join(
      settings.baseUrl,
      API_ROOT,
      'mlflow/runs',
      encodeURIComponent(id),
      'artifacts/download'
    ) + query({ path })
  );
}

/** `GET /mlops/api/mlflow/models`: registered models whose name contains `name`. */
export function fetchRegisteredModels(name: string, pageToken = ''): Promise<IRegisteredModelPage> {
  return request<IRegisteredModelPage>(
    'mlflow/models' + query({ name, page_token: pageToken, max_results: '50' })
  );
}

/** `GET /mlops/api/mlflow/models/NAME/versions`: versions, newest first. */
export function fetchModelVersions(name: string): Promise<IModelVersionPage> {
  return request<IModelVersionPage>(
    `mlflow/models/${encodeURIComponent(name)}/versions` + query({ max_results: '20' })
  );
}
