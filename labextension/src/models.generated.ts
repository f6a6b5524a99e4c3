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
 * A stable id of the cause, e.g. 'insufficient-cpu'.
 */
export type Cause = string;
/**
 * 'likely' where the cause is inferred.
 */
export type Certainty = 'certain' | 'likely';
/**
 * Where the text comes from.
 */
export type Source = 'condition' | 'event' | 'log' | 'status' | 'spec';
/**
 * The text, quoted as the cluster wrote it.
 */
export type Text = string;
/**
 * When it was written (RFC 3339), if known.
 */
export type Time = string | null;
/**
 * What it rests on.
 */
export type Evidence = Evidence1[];
/**
 * What to do, with the object's real names.
 */
export type Fix = string;
/**
 * The object's Kind, e.g. 'Pod', 'Deployment'.
 */
export type Kind = string;
/**
 * The object's name.
 */
export type Name = string;
/**
 * Its owner chain, nearest first (ReplicaSet, then Deployment; StatefulSet, then Notebook; InferenceService, KFP run, Katib trial).
 */
export type Owners = ObjectRef1[];
/**
 * error: the object does not work; warning: it works, badly or not for long.
 */
export type Severity = 'error' | 'warning';
/**
 * The cause in plain words, with the numbers that matter.
 */
export type Summary = string;
/**
 * Most severe first, grouped by owner.
 */
export type Findings = Finding[];
/**
 * The namespace examined.
 */
export type Namespace = string;
/**
 * The resource, e.g. 'nodes', 'storageclasses'.
 */
export type Kind1 = string;
/**
 * How that limits the findings.
 */
export type Limits = string;
/**
 * Why it could not be read.
 */
export type Reason1 = string;
/**
 * Kinds this identity could not read.
 */
export type Unreadable = Unreadable1[];
/**
 * What went wrong and what to do, in words.
 */
export type Message = string;
/**
 * Short name of the failure, e.g. 'Not found'.
 */
export type Reason2 = string;
/**
 * True inside a Kubernetes pod with a ServiceAccount.
 */
export type InPod = boolean;
/**
 * Namespace shown and used for runs.
 */
export type Namespace1 = string | null;
/**
 * Where the namespace came from.
 */
export type Source1 = 'config' | 'serviceaccount' | 'env' | 'kubeconfig' | 'none';
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
 * The answer of the doctor for a namespace or one object.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "DoctorReport".
 */
export interface DoctorReport {
  findings: Findings;
  namespace: Namespace;
  unreadable?: Unreadable;
}
/**
 * One thing wrong with one object: the cause, the evidence and the fix.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "Finding".
 */
export interface Finding {
  cause: Cause;
  certainty?: Certainty;
  evidence?: Evidence;
  fix: Fix;
  object: ObjectRef;
  owners?: Owners;
  severity: Severity;
  summary: Summary;
}
/**
 * One quoted fact a finding rests on.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "Evidence".
 */
export interface Evidence1 {
  source: Source;
  text: Text;
  time?: Time;
}
/**
 * The object the finding is about.
 */
export interface ObjectRef {
  kind: Kind;
  name: Name;
}
/**
 * An object of the namespace, as `kubectl get KIND NAME` names it.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "ObjectRef".
 */
export interface ObjectRef1 {
  kind: Kind;
  name: Name;
}
/**
 * A kind the doctor could not read, and what that leaves out of the findings.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "Unreadable".
 */
export interface Unreadable1 {
  kind: Kind1;
  limits: Limits;
  reason: Reason1;
}
/**
 * What every route answers on failure; never a traceback.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "ErrorBody".
 */
export interface ErrorBody {
  message: Message;
  reason: Reason2;
}
/**
 * Who the extension acts as: the namespace and how it was found.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "Identity".
 */
export interface Identity {
  in_pod: InPod;
  namespace: Namespace1;
  source: Source1;
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
