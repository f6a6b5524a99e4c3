/** Typed requests to the server's `/mlops/api/` routes, through Jupyter's authenticated connection. */

import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type { DoctorReport, ErrorBody, StatusReport } from './models.generated';

export type { DoctorReport, Finding, StatusReport } from './models.generated';

/** The status of one backend: the cluster, Pipelines or MLflow. */
export type BackendStatus = StatusReport['cluster'];

/** Who the extension acts as. */
export type Identity = StatusReport['identity'];

/** Path of every route, under the server's base URL. */
const API_ROOT = 'mlops/api';

/**
 * A failed request, with the words to show the user.
 *
 * `status` is the HTTP status, or 0 when the server could not be reached at all.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Send one request to a route and parse its JSON answer; every failure becomes an `ApiError`. */
export async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, API_ROOT, path);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch {
    throw new ApiError(
      0,
      'unreachable',
      'Cannot reach the Jupyter server: the network or the server is down. ' +
        'The panel keeps trying.'
    );
  }
  const text = await response.text();
  if (!response.ok) {
    throw errorFromAnswer(response.status, text);
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(
      response.status,
      'bad-answer',
      'The server answered with something that is not JSON.'
    );
  }
}

/** Words for a failed answer, using the route's `{reason, message}` body when there is one. */
function errorFromAnswer(status: number, text: string): ApiError {
  let reason = '';
  let detail = '';
  try {
    // Typed loosely on purpose: the body may come from something other than our routes.
    const body = JSON.parse(text) as { [K in keyof ErrorBody]?: unknown };
    reason = typeof body.reason === 'string' ? body.reason : '';
    detail = typeof body.message === 'string' ? body.message : '';
  } catch {
    // Not every failure comes from our routes: proxies and the server's own pages send HTML.
  }
  const said = detail ? ` The server said: ${detail}` : '';
  if (status === 403 && (reason === 'Forbidden' || reason === 'Read-only') && detail) {
    // Our cluster routes refuse in words: read-only mode, or the RBAC rule that is missing.
    return new ApiError(status, reason, `Not allowed: ${detail}`);
  }
  if (status === 401 || status === 403) {
    return new ApiError(
      status,
      reason || 'forbidden',
      `Not allowed (${status}): your Jupyter session may have expired; reload the page ` +
        `to sign in again.${said}`
    );
  }
  if (status === 404 && !reason) {
    return new ApiError(
      status,
      'not-found',
      'The MLOps server extension is not running on this Jupyter server (404): it is not ' +
        'enabled, or it failed to start (the Jupyter server log says why). Enable it with ' +
        '"jupyter server extension enable jupyter_mlops" and restart the server.'
    );
  }
  if (status === 503 && detail) {
    // A backend that is not configured or does not answer: the message says how to fix it.
    return new ApiError(status, reason || 'unavailable', detail);
  }
  if (status >= 500) {
    return new ApiError(
      status,
      reason || 'server-error',
      `The MLOps server failed (${status}).${said || ' See the Jupyter server log.'}`
    );
  }
  return new ApiError(status, reason || 'failed', `The request failed (${status}).${said}`);
}

/** `GET /mlops/api/status`: what is configured and what answers; `fresh` skips the server's cache. */
export function fetchStatus(fresh = false): Promise<StatusReport> {
  return request<StatusReport>(fresh ? 'status?fresh=1' : 'status');
}

/** How a row's status reads at a glance; the table colours it with the theme. */
export type Health = 'ok' | 'progress' | 'warning' | 'error' | 'done';

/** One resource type the cluster serves, as `GET kube` lists it. */
export interface IKindInfo {
  plural: string;
  kind: string;
  group: string;
  version: string;
  namespaced: boolean;
  custom: boolean;
}

/** `GET kube`: the namespace the server acts in and every kind it can show. */
export interface IKindsAnswer {
  namespace: string | null;
  kinds: IKindInfo[];
}

/**
 * One table row. Every kind has the fields named here; the other columns depend on the kind
 * (the snapshot's `columns` names them), e.g. `ready`, `restarts`, `node` for pods.
 */
export interface IRow {
  uid: string;
  name: string;
  namespace: string | null;
  age: string;
  created?: string | null;
  resource_version?: string | null;
  deleting?: boolean;
  status: string;
  health: Health;
  [column: string]: unknown;
}

/** A condition of an object, as `describe` answers it. */
export interface ICondition {
  type: string | null;
  status: string | null;
  reason: string | null;
  message: string | null;
  last_transition: string | null;
}

/** How a container last ended. */
export interface ITermination {
  reason: string | null;
  exit_code: number | null;
  finished: string | null;
  message: string | null;
}

/** One container of a pod, with its state and resources. */
export interface IContainerInfo {
  name: string;
  init: boolean;
  image: string | null;
  image_id: string | null;
  state: string;
  reason: string | null;
  message: string | null;
  started: string | null;
  ready: boolean;
  restarts: number;
  last_termination: ITermination | null;
  requests: Record<string, string>;
  limits: Record<string, string>;
}

/** `GET kube/KIND/NAME/describe`: the object's state and, first of all, what is wrong with it. */
export interface IDescription {
  kind: string;
  name: string;
  namespace: string | null;
  row: IRow;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  created: string | null;
  owners: string[];
  conditions: ICondition[];
  containers: IContainerInfo[];
  events: IRow[];
  diagnosis: string[];
  /** The doctor's findings about the object, of which `diagnosis` holds the summaries. */
  findings?: DoctorReport['findings'];
}

/** The object a main-area panel shows. */
export interface IObjectRef {
  /** The plural of the kind, e.g. `pods`. */
  kind: string;
  name: string;
  namespace: string;
}

/** The query string of a namespaced cluster route. */
function inNamespace(namespace: string, more: Record<string, string> = {}): string {
  return URLExt.objectToQueryString({ namespace, ...more });
}

/** Path of one object's route, with its parts escaped. */
function objectPath(ref: IObjectRef, sub = ''): string {
  const parts = ['kube', encodeURIComponent(ref.kind), encodeURIComponent(ref.name)];
  if (sub) {
    parts.push(sub);
  }
  return parts.join('/') + inNamespace(ref.namespace);
}

/** `GET /mlops/api/kube`: the namespace in use and the kinds the cluster serves. */
export function fetchKinds(): Promise<IKindsAnswer> {
  return request<IKindsAnswer>('kube');
}

/** `GET /mlops/api/kube/KIND/NAME/describe`. */
export function fetchDescription(ref: IObjectRef): Promise<IDescription> {
  return request<IDescription>(objectPath(ref, 'describe'));
}

/** `GET /mlops/api/kube/doctor`: what is wrong in the namespace, and what could not be read. */
export function fetchDoctor(namespace: string): Promise<DoctorReport> {
  return request<DoctorReport>('kube/doctor' + inNamespace(namespace));
}

/**
 * `GET /mlops/api/kube/doctor/KIND/NAME`: one object's findings (a workload's pods too);
 * an empty `namespace` means the server's own.
 */
export function fetchDoctorObject(
  kind: string,
  name: string,
  namespace: string
): Promise<DoctorReport> {
  return request<DoctorReport>(
    ['kube/doctor', encodeURIComponent(kind), encodeURIComponent(name)].join('/') +
      (namespace ? inNamespace(namespace) : '')
  );
}

/** Who owns an object, as its `metadata.ownerReferences` say. */
export interface IOwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
}

/**
 * An object as the cluster stores it (`GET kube/KIND/NAME`). Only the fields the sidebar reads
 * are typed; the rest depends on the kind.
 */
export interface IKubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    ownerReferences?: IOwnerReference[];
    [field: string]: unknown;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

/** `GET /mlops/api/kube/KIND/NAME`: the whole object (a Secret's values left out). */
export function fetchObject(ref: IObjectRef): Promise<IKubeObject> {
  return request<IKubeObject>(objectPath(ref));
}

/** `GET /mlops/api/kube/KIND/NAME/yaml`: the object as YAML text. */
export async function fetchYaml(ref: IObjectRef): Promise<string> {
  const answer = await request<{ yaml: string }>(objectPath(ref, 'yaml'));
  return answer.yaml;
}

/** Which log of a pod to read. */
export interface ILogQuery {
  container: string | null;
  tail: number;
  previous: boolean;
}

/** `GET /mlops/api/kube/pods/NAME/log`: the last lines of a container's log, now. */
export async function fetchLog(pod: IObjectRef, query: ILogQuery): Promise<string[]> {
  const more: Record<string, string> = { tail: String(query.tail) };
  if (query.container) {
    more.container = query.container;
  }
  if (query.previous) {
    more.previous = '1';
  }
  const answer = await request<{ lines: string[] }>(
    `kube/pods/${encodeURIComponent(pod.name)}/log` + inNamespace(pod.namespace, more)
  );
  return answer.lines;
}

/** `DELETE /mlops/api/kube/pods/NAME`. */
export async function deletePod(namespace: string, name: string): Promise<void> {
  await request<{ deleted: string }>(objectPath({ kind: 'pods', name, namespace }), {
    method: 'DELETE'
  });
}

/** `PATCH /mlops/api/kube/deployments/NAME/scale`: returns the replicas the server set. */
export async function scaleDeployment(
  namespace: string,
  name: string,
  replicas: number
): Promise<number> {
  const answer = await request<{ name: string; replicas: number }>(
    `kube/deployments/${encodeURIComponent(name)}/scale` + inNamespace(namespace),
    { method: 'PATCH', body: JSON.stringify({ replicas }) }
  );
  return answer.replicas;
}

/** Where the tab's live WebSocket connects, with the token when the server wants it there. */
export function liveSocketUrl(): string {
  const settings = ServerConnection.makeSettings();
  let url = URLExt.join(settings.wsUrl, API_ROOT, 'ws');
  if (settings.appendToken && settings.token) {
    url += `?token=${encodeURIComponent(settings.token)}`;
  }
  return url;
}

// ---------------------------------------------------------------------------------------------
// Pipelines: `mlops/api/pipelines/…`, local and remote runs side by side.
// ---------------------------------------------------------------------------------------------

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

/** The query string of a route, leaving out what is empty. */
function query(values: Record<string, string>): string {
  const kept = Object.fromEntries(Object.entries(values).filter(([, value]) => value !== ''));
  return Object.keys(kept).length > 0 ? URLExt.objectToQueryString(kept) : '';
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

// ---------------------------------------------------------------------------------------------
// MLflow: `mlops/api/mlflow/…`, experiments, runs, metric histories, artifacts, models.
// ---------------------------------------------------------------------------------------------

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
