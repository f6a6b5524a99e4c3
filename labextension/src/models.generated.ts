/** Types of the server's API models, generated from api/schemas.json by npm run generate:types: do not edit. */

/**
 * ISO-8601 time of the check.
 */
export type CheckedAt = string;
/**
 * Where it is reached, if anywhere.
 */
export type Endpoint = string | null;
/**
 * How to connect, when not configured.
 */
export type Hint = string | null;
export type Mode = 'in-cluster' | 'kubeconfig' | 'remote' | 'local' | 'none';
export type Reachable = boolean;
/**
 * Why it is not reachable, in words.
 */
export type Reason = string | null;
/**
 * The backend's own web UI, as the browser reaches it.
 */
export type UiUrl = string | null;
/**
 * What went wrong and what to do, in words.
 */
export type Message = string;
/**
 * Short name of the failure, e.g. 'Not found'.
 */
export type Reason1 = string;
/**
 * True inside a Kubernetes pod with a ServiceAccount.
 */
export type InPod = boolean;
/**
 * Namespace shown and used for runs.
 */
export type Namespace = string | null;
/**
 * Where the namespace came from.
 */
export type Source = 'config' | 'serviceaccount' | 'env' | 'kubeconfig' | 'none';
export type ReadOnly = boolean;
export type Version = string;

export interface JupyterMlopsAPIModels {
  [k: string]: unknown;
}
/**
 * How one backend (cluster, pipelines, tracking) is reached, and whether it answers.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "BackendStatus".
 */
export interface BackendStatus {
  checked_at: CheckedAt;
  endpoint?: Endpoint;
  hint?: Hint;
  mode: Mode;
  reachable: Reachable;
  reason?: Reason;
  ui_url?: UiUrl;
}
/**
 * What every route answers on failure; never a traceback.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "ErrorBody".
 */
export interface ErrorBody {
  message: Message;
  reason: Reason1;
}
/**
 * Who the extension acts as: the namespace and how it was found.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "Identity".
 */
export interface Identity {
  in_pod: InPod;
  namespace: Namespace;
  source: Source;
}
/**
 * Answer of `GET /mlops/api/status`, `jupyter_mlops.status()` and `%mlops status`.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "StatusReport".
 */
export interface StatusReport {
  cluster: BackendStatus;
  identity: Identity;
  pipelines: BackendStatus;
  read_only: ReadOnly;
  tracking: BackendStatus;
  version: Version;
}
