/** Typed requests to the `mlops/api/mlflow/` routes: experiments, runs, metric histories, artifacts, models. */

import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { API_ROOT, query, request } from './api';
import type { IMlflowRunsQuery } from './mlflow';
import type {
  MlflowArtifact,
  MlflowArtifactList,
  MlflowExperimentPage,
  MlflowMetricHistory,
  MlflowModelVersionPage,
  MlflowRegisteredModelPage,
  MlflowRun,
  MlflowRunPage
} from './models.generated';

/** `GET /mlops/api/mlflow/experiments`: experiments whose name contains `name`. */
export function fetchMlflowExperiments(
  name: string,
  pageToken = ''
): Promise<MlflowExperimentPage> {
  return request<MlflowExperimentPage>(
    'mlflow/experiments' + query({ name, page_token: pageToken, max_results: '100' })
  );
}

/** `GET /mlops/api/mlflow/experiments/ID/runs`: one page, filtered with MLflow's syntax. */
export function fetchMlflowRuns(experimentId: string, q: IMlflowRunsQuery): Promise<MlflowRunPage> {
  return request<MlflowRunPage>(
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
export function fetchMlflowRun(id: string): Promise<MlflowRun> {
  return request<MlflowRun>(`mlflow/runs/${encodeURIComponent(id)}`);
}

/** `GET /mlops/api/mlflow/runs/ID/history`: at most `points` values of metric `key`. */
export function fetchMetricHistory(
  id: string,
  key: string,
  points: number
): Promise<MlflowMetricHistory> {
  return request<MlflowMetricHistory>(
    `mlflow/runs/${encodeURIComponent(id)}/history` + query({ key, points: String(points) })
  );
}

/** `GET /mlops/api/mlflow/runs/ID/artifacts`: the files and folders under `path`. */
export async function fetchMlflowArtifacts(id: string, path: string): Promise<MlflowArtifact[]> {
  const answer = await request<MlflowArtifactList>(
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
export function fetchRegisteredModels(
  name: string,
  pageToken = ''
): Promise<MlflowRegisteredModelPage> {
  return request<MlflowRegisteredModelPage>(
    'mlflow/models' + query({ name, page_token: pageToken, max_results: '50' })
  );
}

/** `GET /mlops/api/mlflow/models/NAME/versions`: versions, newest first. */
export function fetchModelVersions(name: string): Promise<MlflowModelVersionPage> {
  return request<MlflowModelVersionPage>(
    `mlflow/models/${encodeURIComponent(name)}/versions` + query({ max_results: '20' })
  );
}
