/** Types of the server's API models, generated from api/schemas.json by npm run generate:types: do not edit. */

/**
 * Who the requests are sent as, in words; never a secret.
 */
export type ActingAs = string | null;
/**
 * How requests prove who sends them (tracking): a bearer token, basic auth, the Kubernetes ServiceAccount token, or nothing. Never the secret itself.
 */
export type Auth = ('none' | 'token' | 'basic' | 'kubernetes') | null;
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
 * The MLflow workspace used, when the server has workspaces.
 */
export type Workspace = string | null;
export type Init = boolean;
export type Name = string;
export type Sidecar = boolean;
export type Usage = {
  [k: string]: number;
} | null;
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
export type Name1 = string;
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
export type Limits1 = string;
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
export type Allocatable = number;
export type Free = number;
export type Node = string;
export type Product = string | null;
export type Requested = number;
export type Resource = string;
export type Count = number;
export type Pod = string;
export type Resource1 = string;
export type Nodes = GpuNode[];
export type NodesReadable = boolean;
export type Note = string | null;
export type Requested1 = GpuUse[];
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
export type Default = number | null;
export type DefaultRequest = number | null;
export type LimitRange = string;
export type Max = number | null;
export type Min = number | null;
export type Resource2 = string;
export type Type = string;
export type Note1 = string | null;
export type Served = boolean;
export type Name2 = string | null;
export type Namespace2 = string | null;
export type Note2 = string | null;
export type Containers = ContainerResources[];
export type Name3 = string;
export type Node1 = string | null;
export type Phase = string;
export type Usage1 = {
  [k: string]: number;
} | null;
export type CgroupVersion = number | null;
export type CpuCores = number | null;
export type CpuLimitCores = number | null;
export type MemoryBytes = number | null;
export type MemoryLimitBytes = number | null;
export type Namespace3 = string;
export type Refusals = string[];
export type Free1 = number;
export type Hard = number;
export type Quota = string;
export type Resource3 = string;
export type Used = number;
export type LimitRanges = LimitDefault[];
export type Namespace4 = string;
export type Pods = PodResources[];
export type Quotas = QuotaLine[];
export type AccessModes = string[];
export type Claim = string;
export type Phase1 = string;
export type Name4 = string;
export type Node2 = string | null;
export type Pods1 = VolumePod[];
export type Size1 = number | null;
export type StorageClass = string | null;
export type Warning = string | null;
export type Volumes = Volume[];
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
  acting_as?: ActingAs;
  auth?: Auth;
  checked_at: CheckedAt;
  endpoint?: Endpoint;
  hint?: Hint;
  mode: Mode;
  reachable: Reachable;
  reason?: Reason;
  ui_url?: UiUrl;
  workspace?: Workspace;
}
/**
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "ContainerResources".
 */
export interface ContainerResources {
  init?: Init;
  limits?: Limits;
  name: Name;
  requests?: Requests;
  sidecar?: Sidecar;
  usage?: Usage;
}
export interface Limits {
  [k: string]: number;
}
export interface Requests {
  [k: string]: number;
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
  name: Name1;
}
/**
 * An object of the namespace, as `kubectl get KIND NAME` names it.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "ObjectRef".
 */
export interface ObjectRef1 {
  kind: Kind;
  name: Name1;
}
/**
 * A kind the doctor could not read, and what that leaves out of the findings.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "Unreadable".
 */
export interface Unreadable1 {
  kind: Kind1;
  limits: Limits1;
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
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "GpuNode".
 */
export interface GpuNode {
  allocatable: Allocatable;
  free: Free;
  node: Node;
  product: Product;
  requested: Requested;
  resource: Resource;
}
/**
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "GpuUse".
 */
export interface GpuUse {
  count: Count;
  pod: Pod;
  resource: Resource1;
}
/**
 * Extended resources my pods ask for, and what each node has left (when readable).
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "Gpus".
 */
export interface Gpus {
  nodes?: Nodes;
  nodes_readable: NodesReadable;
  note?: Note;
  requested?: Requested1;
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
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "LimitDefault".
 */
export interface LimitDefault {
  default?: Default;
  default_request?: DefaultRequest;
  limit_range: LimitRange;
  max?: Max;
  min?: Min;
  resource: Resource2;
  type: Type;
}
/**
 * Whether live use of pods could be read, and why not.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "Metrics".
 */
export interface Metrics {
  note?: Note1;
  served: Served;
}
/**
 * My notebook pod: what it asks for (if it is found) and what it uses now.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "MyPod".
 */
export interface MyPod {
  name: Name2;
  namespace: Namespace2;
  note?: Note2;
  pod?: PodResources | null;
  usage: MyUsage;
}
/**
 * A pod's requests and limits as the scheduler counts them, and its live use if known.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "PodResources".
 */
export interface PodResources {
  containers?: Containers;
  limits?: Limits2;
  name: Name3;
  node?: Node1;
  phase?: Phase;
  requests?: Requests1;
  usage?: Usage1;
}
export interface Limits2 {
  [k: string]: number;
}
export interface Requests1 {
  [k: string]: number;
}
/**
 * This process's cgroup: CPU cores used lately, memory used, and the cgroup's limits.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "MyUsage".
 */
export interface MyUsage {
  cgroup_version: CgroupVersion;
  cpu_cores: CpuCores;
  cpu_limit_cores: CpuLimitCores;
  memory_bytes: MemoryBytes;
  memory_limit_bytes: MemoryLimitBytes;
}
/**
 * Why a one-container pod of `size` would be refused in the namespace (empty: it fits).
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "NextPodHits".
 */
export interface NextPodHits {
  namespace: Namespace3;
  refusals: Refusals;
  size: Size;
}
export interface Size {
  [k: string]: number;
}
/**
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "QuotaLine".
 */
export interface QuotaLine {
  free: Free1;
  hard: Hard;
  quota: Quota;
  resource: Resource3;
  used: Used;
}
/**
 * Everything `%k8s top` and the resources route show for one namespace.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "ResourcesReport".
 */
export interface ResourcesReport {
  gpus: Gpus;
  limit_ranges: LimitRanges;
  metrics: Metrics;
  namespace: Namespace4;
  pods: Pods;
  quotas: Quotas;
  volumes: Volumes;
}
/**
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "Volume".
 */
export interface Volume {
  access_modes: AccessModes;
  claim: Claim;
  phase: Phase1;
  pods?: Pods1;
  size: Size1;
  storage_class: StorageClass;
  warning?: Warning;
}
/**
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "VolumePod".
 */
export interface VolumePod {
  name: Name4;
  node: Node2;
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
