/** Typed requests to the server's `/mlops/api/` routes, through Jupyter's authenticated connection. */

import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type { ErrorBody, StatusReport } from './models.generated';

export type { StatusReport } from './models.generated';

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
async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
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
