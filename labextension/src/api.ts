/** Typed requests to the server's `/mlops/api/` routes, through Jupyter's authenticated connection. */

import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type { ILogQuery } from './logs';
import type {
  DoctorReport,
  ErrorBody,
  KubeDeleted,
  KubeDescription,
  KubeKinds,
  KubeLog,
  KubeObject,
  KubeScaled,
  KubeScaleRequest,
  KubeYaml,
  StatusReport
} from './models.generated';
import type { IObjectRef } from './object';

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
export function fetchKinds(): Promise<KubeKinds> {
  return request<KubeKinds>('kube');
}

/** `GET /mlops/api/kube/KIND/NAME/describe`. */
export function fetchDescription(ref: IObjectRef): Promise<KubeDescription> {
  return request<KubeDescription>(objectPath(ref, 'describe'));
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

/** `GET /mlops/api/kube/KIND/NAME`: the whole object (a Secret's values left out). */
export function fetchObject(ref: IObjectRef): Promise<KubeObject> {
  return request<KubeObject>(objectPath(ref));
}

/** `GET /mlops/api/kube/KIND/NAME/yaml`: the object as YAML text. */
export async function fetchYaml(ref: IObjectRef): Promise<string> {
  const answer = await request<KubeYaml>(objectPath(ref, 'yaml'));
  return answer.yaml;
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
  const answer = await request<KubeLog>(
    `kube/pods/${encodeURIComponent(pod.name)}/log` + inNamespace(pod.namespace, more)
  );
  return answer.lines;
}

/** `DELETE /mlops/api/kube/pods/NAME`. */
export async function deletePod(namespace: string, name: string): Promise<void> {
  await request<KubeDeleted>(objectPath({ kind: 'pods', name, namespace }), {
    method: 'DELETE'
  });
}

/** `PATCH /mlops/api/kube/deployments/NAME/scale`: returns the replicas the server set. */
export async function scaleDeployment(
  namespace: string,
  name: string,
  replicas: number
): Promise<KubeScaled['replicas']> {
  const body: KubeScaleRequest = { replicas };
  const answer = await request<KubeScaled>(
    `kube/deployments/${encodeURIComponent(name)}/scale` + inNamespace(namespace),
    { method: 'PATCH', body: JSON.stringify(body) }
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
