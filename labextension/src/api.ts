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
export const API_ROOT = 'mlops/api';

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

/** The query string of a route, leaving out what is empty. */
export function query(values: Record<string, string>): string {
  const kept = Object.fromEntries(Object.entries(values).filter(([, value]) => value !== ''));
  return Object.keys(kept).length > 0 ? URLExt.objectToQueryString(kept) : '';
}
