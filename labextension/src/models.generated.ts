/** Types of the server's API models, generated from api/schemas.json by npm run generate:types: do not edit. */

/**
 * The alias it was served from.
 */
export type Alias = string | null;
export type CanaryPercent = number | null;
export type Message = string;
export type Reason = string;
/**
 * 'True', 'False' or 'Unknown', as KServe writes it.
 */
export type Status = string;
export type Type = string;
export type Conditions = ServingCondition[];
/**
 * When it was made (RFC 3339).
 */
export type Created = string | null;
export type DeploymentMode = string | null;
export type Mode = 'local' | 'cluster';
/**
 * The registered MLflow model it serves.
 */
export type Model = string | null;
export type ModelFormat = string;
export type Name = string;
export type Namespace = string | null;
export type Name1 = string;
export type Phase = string;
export type Ready = boolean;
export type Pods = PredictorPod[];
export type Ready1 = boolean;
/**
 * Why it is not Ready, in a line.
 */
export type Reason1 = string;
export type Runtime = string | null;
export type StorageUri = string | null;
export type Latest = boolean;
export type Percent = number;
export type Revision = string;
export type Tag = string;
export type Traffic = TrafficShare[];
/**
 * Where it answers, once it has an address.
 */
export type Url = string | null;
export type Version = string | null;
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
export type Mode1 = 'in-cluster' | 'kubeconfig' | 'cluster' | 'server' | 'local' | 'none';
export type Reachable = boolean;
/**
 * Why it is not reachable, in words.
 */
export type Reason2 = string | null;
/**
 * The backend's own web UI, as the browser reaches it.
 */
export type UiUrl = string | null;
/**
 * The MLflow workspace used, when the server has workspaces.
 */
export type Workspace = string | null;
export type Init = boolean;
export type Name2 = string;
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
export type Name3 = string;
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
export type Namespace1 = string;
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
export type Reason3 = string;
/**
 * Kinds this identity could not read.
 */
export type Unreadable = Unreadable1[];
/**
 * What went wrong and what to do, in words.
 */
export type Message1 = string;
/**
 * Short name of the failure, e.g. 'Not found'.
 */
export type Reason4 = string;
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
export type Namespace2 = string | null;
/**
 * Where the namespace came from.
 */
export type Source1 = 'config' | 'serviceaccount' | 'env' | 'kubeconfig' | 'none';
/**
 * lastTransitionTime (RFC 3339).
 */
export type LastTransition = string | null;
export type Message2 = string | null;
export type Reason5 = string | null;
export type Status1 = string | null;
export type Type1 = string | null;
export type Image = string | null;
export type ImageId = string | null;
/**
 * An init container.
 */
export type Init1 = boolean;
export type ExitCode = number | null;
export type Finished = string | null;
export type Message3 = string | null;
export type Reason6 = string | null;
export type Message4 = string | null;
export type Name4 = string;
export type Ready2 = boolean;
export type Reason7 = string | null;
export type Restarts = number;
export type Started = string | null;
/**
 * waiting, running or terminated.
 */
export type State = string;
/**
 * The pod's name.
 */
export type Deleted = string;
export type Conditions1 = KubeCondition[];
/**
 * A pod's; empty for other kinds.
 */
export type Containers = KubeContainer[];
export type Created1 = string | null;
/**
 * The summaries of `findings`.
 */
export type Diagnosis = string[];
/**
 * Since creation, as kubectl prints it: 5s, 3m, 2h, 4d.
 */
export type Age = string;
/**
 * creationTimestamp (RFC 3339).
 */
export type Created2 = string | null;
/**
 * It has a deletionTimestamp.
 */
export type Deleting = boolean;
/**
 * How the status reads at a glance; the table colours it.
 */
export type Health = 'ok' | 'progress' | 'warning' | 'error' | 'done';
export type Name5 = string;
export type Namespace3 = string | null;
export type ResourceVersion = string | null;
/**
 * The word a user scans for, e.g. Running, Bound.
 */
export type Status2 = string;
/**
 * The object's uid, or namespace/name when it has none.
 */
export type Uid = string;
/**
 * Rows of the events about the object.
 */
export type Events = KubeRow[];
/**
 * The doctor's findings about the object.
 */
export type Findings1 = Finding[];
export type Kind2 = string;
export type Name6 = string;
export type Namespace4 = string | null;
/**
 * Kind/name of each owner reference.
 */
export type Owners1 = string[];
/**
 * Served by a CustomResourceDefinition.
 */
export type Custom = boolean;
/**
 * The API group; empty for the core group.
 */
export type Group = string;
/**
 * The kind, e.g. 'Pod'.
 */
export type Kind3 = string;
export type Namespaced = boolean;
/**
 * The plural the routes take, e.g. 'pods'.
 */
export type Plural = string;
/**
 * The served version, e.g. 'v1'.
 */
export type Version1 = string;
export type Kinds = KubeKind[];
/**
 * The namespace in use.
 */
export type Namespace5 = string | null;
/**
 * As asked; null for the pod's only one.
 */
export type Container = string | null;
export type Lines = string[];
export type Pod1 = string;
export type Apiversion = string;
export type Kind4 = string;
export type Annotations1 = {
  [k: string]: string;
} | null;
export type Creationtimestamp = string | null;
export type Deletiontimestamp = string | null;
export type Labels1 = {
  [k: string]: string;
} | null;
export type Name7 = string;
/**
 * None for cluster-wide kinds.
 */
export type Namespace6 = string | null;
export type Ownerreferences = KubeOwnerReference[] | null;
export type Apiversion1 = string;
export type Blockownerdeletion = boolean | null;
export type Controller = boolean | null;
export type Kind5 = string;
export type Name8 = string;
export type Uid1 = string;
export type Resourceversion = string | null;
export type Uid2 = string;
export type Spec = {
  [k: string]: unknown;
} | null;
export type Status3 = {
  [k: string]: unknown;
} | null;
/**
 * At most c.MLOpsConfig.max_replicas (1000 unless configured); more answers 400.
 */
export type Replicas = number;
export type Name9 = string;
export type Replicas1 = number | null;
/**
 * The row fields the table shows, in order.
 */
export type Columns = string[];
/**
 * Why the watch is not current, if it is not.
 */
export type Error = string | null;
/**
 * The kind's plural.
 */
export type Kind6 = string;
export type Limit = number;
export type Namespace7 = string | null;
export type Offset = number;
/**
 * The watch's resourceVersion.
 */
export type ResourceVersion1 = string | null;
export type Rows = KubeRow[];
/**
 * Rows that match the filter, on every page.
 */
export type Total = number;
export type Yaml = string;
export type Default = number | null;
export type DefaultRequest = number | null;
export type LimitRange = string;
export type Max = number | null;
export type Min = number | null;
export type Resource2 = string;
export type Type2 = string;
/**
 * Any message the browser sends; any other field is refused with an `error`.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "LiveClientMessage".
 */
export type LiveClientMessage =
  | LiveSubscribe
  | LiveUnsubscribe
  | LiveFollow
  | LiveUnfollow
  | LiveWatchRuns
  | LiveUnwatchRuns
  | LiveWatchDoctor
  | LiveUnwatchDoctor;
/**
 * The request's own id.
 */
export type Id = string;
/**
 * Plural, singular or short name.
 */
export type Kind7 = string;
/**
 * Empty or null: the server's own.
 */
export type Namespace8 = string | null;
export type Op = 'subscribe';
/**
 * The request's own id.
 */
export type Id1 = string;
export type Op1 = 'unsubscribe';
/**
 * Empty or null: the first one.
 */
export type Container1 = string | null;
/**
 * The request's own id.
 */
export type Id2 = string;
/**
 * Empty or null: the server's own.
 */
export type Namespace9 = string | null;
export type Op2 = 'follow';
/**
 * The pod's name.
 */
export type Pod2 = string;
/**
 * The previous run's log (not followed).
 */
export type Previous = boolean;
/**
 * Lines of the past to send.
 */
export type Tail = number;
/**
 * The request's own id.
 */
export type Id3 = string;
export type Op3 = 'unfollow';
/**
 * The request's own id.
 */
export type Id4 = string;
export type Op4 = 'watch-runs';
/**
 * The request's own id.
 */
export type Id5 = string;
export type Op5 = 'unwatch-runs';
/**
 * The request's own id.
 */
export type Id6 = string;
/**
 * Empty or null: the server's own.
 */
export type Namespace10 = string | null;
export type Op6 = 'watch-doctor';
/**
 * The request's own id.
 */
export type Id7 = string;
export type Op7 = 'unwatch-doctor';
/**
 * The request's own id.
 */
export type Id8 = string;
export type Type3 = 'end';
/**
 * Null when the message was not readable enough to tell.
 */
export type Id9 = string | null;
/**
 * What went wrong and what to do, in words.
 */
export type Message5 = string;
/**
 * Short name of the failure, as ErrorBody's.
 */
export type Reason8 = string;
export type Type4 = 'error';
/**
 * Keys of the findings no longer true.
 */
export type Gone = string[];
/**
 * The request's own id.
 */
export type Id10 = string;
/**
 * Set on the first push only.
 */
export type Snapshot = boolean;
export type Type5 = 'findings';
/**
 * What this identity could not read.
 */
export type Unreadable2 = Unreadable1[];
/**
 * The request's own id.
 */
export type Id11 = string;
/**
 * The lines, without their newline.
 */
export type Lines1 = string[];
/**
 * Lines dropped before these: the browser was slow.
 */
export type Skipped = number;
export type Type6 = 'lines';
/**
 * The request's own id.
 */
export type Id12 = string;
export type Type7 = 'ADDED' | 'MODIFIED' | 'DELETED';
/**
 * Any message of a server frame (a frame is a JSON array of them).
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "LiveServerMessage".
 */
export type LiveServerMessage =
  | LiveSnapshot
  | LiveRowChange
  | LiveSynced
  | LiveLines
  | LiveEnd
  | LiveError
  | RunsPush
  | LiveFindings;
/**
 * The kind's columns beyond the common fields.
 */
export type Columns1 = string[];
/**
 * The request's own id.
 */
export type Id13 = string;
/**
 * Every row, as the kube table page gives them.
 */
export type Rows1 = KubeRow[];
export type Type8 = 'snapshot';
/**
 * The request's own id.
 */
export type Id14 = string;
export type Type9 = 'synced';
/**
 * What went wrong and what to do, in words.
 */
export type Message6 = string;
/**
 * Short name of the failure, e.g. 'Unavailable'.
 */
export type Reason9 = string;
/**
 * Ids of the runs that left the newest page.
 */
export type Gone1 = string[];
/**
 * The id of the watch-runs request.
 */
export type Id15 = string;
/**
 * The backend that ran it.
 */
export type Backend = 'local' | 'cluster';
export type CreatedAt = string;
export type Experiment = string;
export type FinishedAt = string | null;
export type Id16 = string;
export type Name10 = string;
export type PipelineName = string;
export type Source2 = 'local' | 'cluster';
export type StartedAt = string | null;
export type Status4 = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELED';
export type TasksDone = number;
export type TasksTotal = number;
/**
 * The run's page in the Kubeflow dashboard (cluster).
 */
export type Url1 = string | null;
/**
 * The rows that changed.
 */
export type Runs = PipelineRunRow[];
export type Type10 = 'runs';
export type Note1 = string | null;
export type Served = boolean;
export type IsDir = boolean;
export type Path = string;
export type Size = number | null;
export type Artifacts = MlflowArtifact[];
/**
 * The folder, relative to the run's root; empty for the root.
 */
export type Path1 = string;
export type RunId = string;
export type ArtifactLocation = string;
export type CreatedAt1 = string | null;
export type Id17 = string;
/**
 * active or deleted
 */
export type LifecycleStage = string;
export type Name11 = string;
export type UpdatedAt = string | null;
export type Experiments = MlflowExperiment[];
/**
 * Ask again with it for the next page; null on the last page.
 */
export type NextPageToken = string | null;
export type Downsampled = boolean;
export type Key = string;
export type Step = number;
export type Timestamp = number;
export type Value = number | null;
export type Points = MlflowMetricPoint[];
export type RunId1 = string;
/**
 * How many points the run logged.
 */
export type Total1 = number;
export type Aliases = string[];
export type CreatedAt2 = string | null;
export type Description = string;
export type Name12 = string;
export type RunId2 = string | null;
export type Source3 = string;
export type Status5 = string;
export type UpdatedAt1 = string | null;
export type Version2 = string;
export type Name13 = string;
/**
 * Ask again with it for the next page; null on the last page.
 */
export type NextPageToken1 = string | null;
export type Versions = MlflowModelVersion[];
export type CreatedAt3 = string | null;
export type Description1 = string;
export type Name14 = string;
export type UpdatedAt2 = string | null;
export type Models = MlflowRegisteredModel[];
/**
 * Ask again with it for the next page; null on the last page.
 */
export type NextPageToken2 = string | null;
export type ArtifactUri = string;
export type EndedAt = string | null;
export type ExperimentId = string;
export type Id18 = string;
export type LifecycleStage1 = string;
export type Name15 = string;
export type StartedAt1 = string | null;
/**
 * RUNNING, SCHEDULED, FINISHED, FAILED or KILLED
 */
export type Status6 = string;
export type User = string;
export type ExperimentId1 = string;
/**
 * Ask again with it for the next page; null on the last page.
 */
export type NextPageToken3 = string | null;
export type EndedAt1 = string | null;
export type ExperimentId2 = string;
export type Id19 = string;
export type Name16 = string;
export type StartedAt2 = string | null;
/**
 * RUNNING, SCHEDULED, FINISHED, FAILED or KILLED
 */
export type Status7 = string;
export type User1 = string;
export type Runs1 = MlflowRunSummary[];
export type Name17 = string | null;
export type Namespace11 = string | null;
export type Note2 = string | null;
/**
 * e.g. kubeflow.org/v1 (Notebook), kubeflow.org/v1beta1.
 */
export type ApiVersion = string;
export type Kind8 = 'Notebook' | 'Workspace';
/**
 * A Workspace's status.stateMessage.
 */
export type Message7 = string | null;
export type Name18 = string;
/**
 * Why part of it could not be read.
 */
export type Note3 = string | null;
/**
 * A Workspace's status.state (Running, Paused, Pending, Error, …); for a Notebook: Running, Waiting, Stopped or Terminating, from its status and annotations.
 */
export type State1 = string | null;
/**
 * A Workspace's spec.kind.
 */
export type WorkspaceKind = string | null;
export type Containers1 = ContainerResources[];
export type Name19 = string;
export type Node1 = string | null;
export type Phase1 = string;
export type Usage1 = {
  [k: string]: number;
} | null;
export type CgroupVersion = number | null;
export type CpuCores = number | null;
export type CpuLimitCores = number | null;
export type MemoryBytes = number | null;
export type MemoryLimitBytes = number | null;
export type Namespace12 = string;
export type Refusals = string[];
export type CreatedAt4 = string;
export type Description2 = string;
export type Id20 = string;
export type Name20 = string;
export type Source4 = 'local' | 'cluster';
export type Experiments1 = PipelineExperiment[];
export type ExperimentId3 = string;
export type MlflowRunId = string;
export type Name21 = string;
/**
 * The MLflow run's status, e.g. FINISHED.
 */
export type Status8 = string;
/**
 * The task's name; null for the pipeline run's own.
 */
export type Task = string | null;
/**
 * The backend that ran it.
 */
export type Backend1 = 'local' | 'cluster';
export type CreatedAt5 = string;
/**
 * Why the run failed, in words.
 */
export type Error1 = string | null;
export type Experiment1 = string;
export type FinishedAt1 = string | null;
export type Id21 = string;
/**
 * The run's page in the Kubeflow dashboard.
 */
export type Dashboard = string;
/**
 * The MLflow run the Pipelines server made for the run.
 */
export type Mlflow = string;
export type ExperimentId4 = string;
export type ExperimentName = string;
/**
 * Why the sync failed, when it did.
 */
export type Message8 = string;
/**
 * The MLflow parent run of the pipeline run.
 */
export type RunId3 = string;
/**
 * The server's sync state: PLUGIN_SUCCEEDED, PLUGIN_FAILED...
 */
export type State2 = string;
/**
 * The run's page in the MLflow UI.
 */
export type Url2 = string | null;
export type Name22 = string;
/**
 * The process executing a local run.
 */
export type Pid = number | null;
export type PipelineName1 = string;
/**
 * The run this one re-runs, if any.
 */
export type RetryOf = string | null;
export type Source5 = 'local' | 'cluster';
export type StartedAt3 = string | null;
export type Status9 = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELED';
/**
 * Tasks that must finish before it starts.
 */
export type DependsOn = string[];
export type FinishedAt2 = string | null;
/**
 * The sub-pipelines, loop iterations and condition branches it runs in, outermost first; empty at the top level.
 */
export type Group1 = string[];
/**
 * Unique within the run (a task that runs twice gets '#2').
 */
export type Id22 = string;
/**
 * The task's name in the pipeline.
 */
export type Name23 = string;
/**
 * The pod executing it, on a cluster.
 */
export type Pod3 = string | null;
export type StartedAt4 = string | null;
export type State3 = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELED';
export type Tasks = PipelineTask[];
export type TasksDone1 = number;
export type TasksTotal1 = number;
/**
 * The run's page in the Kubeflow dashboard (cluster).
 */
export type Url3 = string | null;
/**
 * The backend that ran it.
 */
export type Backend2 = 'local' | 'cluster';
export type CreatedAt6 = string;
/**
 * Why the run failed, in words.
 */
export type Error2 = string | null;
export type Experiment2 = string;
export type FinishedAt3 = string | null;
export type Id23 = string;
/**
 * The MLflow runs recorded for the run, or why MLflow could not be read.
 */
export type Mlflow1 = PipelineMlflowRun[] | PipelineSourceError;
export type Name24 = string;
/**
 * The process executing a local run.
 */
export type Pid1 = number | null;
export type PipelineName2 = string;
/**
 * The run this one re-runs, if any.
 */
export type RetryOf1 = string | null;
export type Source6 = 'local' | 'cluster';
export type StartedAt5 = string | null;
export type Status10 = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELED';
export type Tasks1 = PipelineTask[];
export type TasksDone2 = number;
export type TasksTotal2 = number;
/**
 * The run's page in the Kubeflow dashboard (cluster).
 */
export type Url4 = string | null;
/**
 * Token of the next page; '' after the last.
 */
export type NextPageToken4 = string;
/**
 * How many runs match, on every page.
 */
export type TotalSize = number;
export type Runs2 = PipelineRunRow[];
/**
 * The run's id.
 */
export type Run = string;
export type Source7 = 'local' | 'cluster';
/**
 * The task's name or id, as asked.
 */
export type Task1 = string;
/**
 * The last lines it printed.
 */
export type Text1 = string;
export type Check = string;
export type Fix1 = string;
export type Message9 = string;
export type Severity1 = 'error' | 'warning' | 'info';
/**
 * What `POST serving/services/NAME/predict` takes: v2 inputs, or values by column.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "PredictBody".
 */
export type PredictBody = PredictInputs | PredictColumns;
export type Id24 = string | null;
export type Data = unknown[];
/**
 * A v2 datatype: BOOL, INT64, FP64, BYTES, ...
 */
export type Datatype = string;
export type Name25 = string;
export type Parameters2 = {
  [k: string]: unknown;
} | null;
export type Shape = number[];
/**
 * At least one (a request without is refused).
 */
export type Inputs1 = Tensor[];
export type Parameters3 = {
  [k: string]: unknown;
} | null;
export type Columns3 = string[];
/**
 * At most 1000 rows; the response keeps them all.
 */
export type Rows2 = unknown[][];
/**
 * How many rows the prediction has.
 */
export type Total2 = number;
export type Free1 = number;
export type Hard = number;
export type Quota = string;
export type Resource3 = string;
export type Used = number;
export type LimitRanges = LimitDefault[];
export type Namespace13 = string;
export type Pods1 = PodResources[];
export type Quotas = QuotaLine[];
export type AccessModes = string[];
export type Claim = string;
export type Phase2 = string;
export type Name26 = string;
export type Node2 = string | null;
export type Pods2 = VolumePod[];
export type Size2 = number | null;
export type StorageClass = string | null;
export type Warning = string | null;
export type Volumes = Volume[];
export type Findings3 = PlanFinding[];
export type Manifest = {
  [k: string]: unknown;
} | null;
/**
 * An alias (e.g. champion); serving it again after it moved rolls the service out to its new version.
 */
export type Alias1 = string | null;
/**
 * Percent of the traffic for the new version (KServe's canaryTrafficPercent; Knative mode).
 */
export type Canary = number | null;
/**
 * Standard (default) or Knative, or their former names.
 */
export type DeploymentMode1 = ('Standard' | 'Knative' | 'RawDeployment' | 'Serverless') | null;
/**
 * cluster (default) or a model server on loopback.
 */
export type Mode2 = ('local' | 'cluster') | null;
/**
 * The registered model.
 */
export type Model1 = string;
/**
 * The InferenceService's name (default: made from the model's).
 */
export type Name27 = string | null;
/**
 * A ServingRuntime (default: auto).
 */
export type Runtime1 = string | null;
/**
 * The ServiceAccount with the storage credentials.
 */
export type ServiceAccount = string | null;
/**
 * A version number; without version and alias, the newest.
 */
export type Version3 = string | null;
export type Inputs2 = TensorSpec[] | null;
export type Datatype1 = string;
export type Name28 = string;
export type Shape1 = number[];
export type Name29 = string | null;
export type Outputs3 = TensorSpec[] | null;
export type Parameters4 = {
  [k: string]: unknown;
} | null;
export type Platform = string | null;
export type Versions1 = string[] | null;
export type LatencyMs = number;
export type Mode3 = 'local' | 'cluster';
export type Name30 = string;
export type Url5 = string;
/**
 * The alias it was served from.
 */
export type Alias2 = string | null;
/**
 * The version the alias points at now; unlike version, the alias moved.
 */
export type AliasVersion = string | null;
export type CanaryPercent1 = number | null;
export type Conditions2 = ServingCondition[];
/**
 * When it was made (RFC 3339).
 */
export type Created3 = string | null;
export type DeploymentMode2 = string | null;
/**
 * The doctor's findings while an InferenceService is not Ready; else empty.
 */
export type Findings4 = Finding[];
export type Mode4 = 'local' | 'cluster';
/**
 * The registered MLflow model it serves.
 */
export type Model2 = string | null;
export type ModelFormat1 = string;
export type Name31 = string;
export type Namespace14 = string | null;
export type Pods3 = PredictorPod[];
export type Ready3 = boolean;
/**
 * Why it is not Ready, in a line.
 */
export type Reason10 = string;
export type Runtime2 = string | null;
export type StorageUri1 = string | null;
export type Traffic1 = TrafficShare[];
/**
 * Where it answers, once it has an address.
 */
export type Url6 = string | null;
export type Version4 = string | null;
/**
 * The namespace read, when the cluster answered.
 */
export type Namespace15 = string | null;
export type Services = ServingService[];
export type ReadOnly = boolean;
export type Version5 = string;
/**
 * A trial's state, in Katib's words (its Trial condition types).
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "TrialState".
 */
export type TrialState =
  'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Killed' | 'MetricsUnavailable';
/**
 * The trial's name.
 */
export type Trial = string;
/**
 * Its objective value.
 */
export type Value1 = number;
/**
 * SVG: the objective by trial and the best so far.
 */
export type MetricByTrial = string;
/**
 * SVG: one axis per parameter and one for the objective, a line per ended trial.
 */
export type ParallelCoordinates = string;
export type Algorithm = string;
/**
 * The component each trial runs.
 */
export type Component = string;
/**
 * When it was made (ISO 8601).
 */
export type CreatedAt7 = string | null;
export type Direction = 'maximize' | 'minimize';
/**
 * Failed trials that end the search.
 */
export type MaxFailed = number;
export type Message10 = string;
/**
 * The objective metric.
 */
export type Metric = string;
export type Name32 = string;
export type Namespace16 = string | null;
/**
 * Trials run at once.
 */
export type Parallel = number;
/**
 * A search's state, in Katib's words (its Experiment condition types).
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "TuningState".
 */
export type TuningState = 'Created' | 'Running' | 'Succeeded' | 'Failed';
/**
 * Ended by a stop, not by its limits.
 */
export type Stopped = boolean;
export type Message11 = string;
export type Name33 = string;
/**
 * The objective metric's value, once reported.
 */
export type Objective = number | null;
/**
 * How long it ran (so far, while it runs).
 */
export type Seconds = number | null;
export type Trials = TuningTrial[];
/**
 * Trials that have ended.
 */
export type TrialsDone = number;
/**
 * The search's max trials.
 */
export type TrialsTotal = number;
/**
 * local: trials on this machine; cluster: a Katib Experiment.
 */
export type Where = 'local' | 'cluster';
export type Algorithm1 = string;
/**
 * The component each trial runs.
 */
export type Component1 = string;
/**
 * When it was made (ISO 8601).
 */
export type CreatedAt8 = string | null;
export type Direction1 = 'maximize' | 'minimize';
export type Message12 = string;
/**
 * The objective metric.
 */
export type Metric1 = string;
export type Name34 = string;
export type Namespace17 = string | null;
/**
 * Ended by a stop, not by its limits.
 */
export type Stopped1 = boolean;
/**
 * Trials that have ended.
 */
export type TrialsDone1 = number;
/**
 * The search's max trials.
 */
export type TrialsTotal1 = number;
/**
 * local: trials on this machine; cluster: a Katib Experiment.
 */
export type Where1 = 'local' | 'cluster';
export type Experiments2 = TuningSummary[];
/**
 * The namespace read, when the cluster answered.
 */
export type Namespace18 = string | null;
export type CreatedAt9 = string;
export type Description3 = string;
export type DisplayName = string;
export type Id25 = string;
export type Name35 = string;
/**
 * Its profile namespace; '' when shared.
 */
export type Namespace19 = string;
export type CreatedAt10 = string;
export type Description4 = string;
export type DisplayName1 = string;
export type Id26 = string;
export type Name36 = string;
export type PipelineId = string;
/**
 * Token of the next page; '' after the last.
 */
export type NextPageToken5 = string;
export type TotalSize1 = number;
export type Versions2 = UploadedPipelineVersion[];
/**
 * Token of the next page; '' after the last.
 */
export type NextPageToken6 = string;
export type Pipelines = UploadedPipeline[];
export type TotalSize2 = number;

export interface JupyterMlopsAPIModels {
  [k: string]: unknown;
}
/**
 * A served model: an InferenceService on the cluster or a model server on loopback.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "AppliedService".
 */
export interface AppliedService {
  alias: Alias;
  canary_percent: CanaryPercent;
  conditions: Conditions;
  created: Created;
  deployment_mode: DeploymentMode;
  mode: Mode;
  model: Model;
  model_format: ModelFormat;
  name: Name;
  namespace: Namespace;
  pods: Pods;
  ready: Ready1;
  reason: Reason1;
  runtime: Runtime;
  storage_uri: StorageUri;
  traffic: Traffic;
  url: Url;
  version: Version;
}
/**
 * One condition of an InferenceService's status.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "ServingCondition".
 */
export interface ServingCondition {
  message: Message;
  reason: Reason;
  status: Status;
  type: Type;
}
/**
 * A pod serving the model.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "PredictorPod".
 */
export interface PredictorPod {
  name: Name1;
  phase: Phase;
  ready: Ready;
}
/**
 * One revision's share of the traffic (Knative mode; a canary has tag 'latest').
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "TrafficShare".
 */
export interface TrafficShare {
  latest: Latest;
  percent: Percent;
  revision: Revision;
  tag: Tag;
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
  mode: Mode1;
  reachable: Reachable;
  reason?: Reason2;
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
  name: Name2;
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
  namespace: Namespace1;
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
  name: Name3;
}
/**
 * An object of the namespace, as `kubectl get KIND NAME` names it.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "ObjectRef".
 */
export interface ObjectRef1 {
  kind: Kind;
  name: Name3;
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
  reason: Reason3;
}
/**
 * What every route answers on failure; never a traceback.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "ErrorBody".
 */
export interface ErrorBody {
  message: Message1;
  reason: Reason4;
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
  namespace: Namespace2;
  source: Source1;
}
/**
 * A condition of an object, as `describe` answers it.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "KubeCondition".
 */
export interface KubeCondition {
  last_transition: LastTransition;
  message: Message2;
  reason: Reason5;
  status: Status1;
  type: Type1;
}
/**
 * One container of a pod, with its state and resources.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "KubeContainer".
 */
export interface KubeContainer {
  image: Image;
  image_id: ImageId;
  init: Init1;
  last_termination: KubeTermination | null;
  limits: Limits2;
  message: Message4;
  name: Name4;
  ready: Ready2;
  reason: Reason7;
  requests: Requests1;
  restarts: Restarts;
  started: Started;
  state: State;
}
/**
 * How a container last ended.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "KubeTermination".
 */
export interface KubeTermination {
  exit_code: ExitCode;
  finished: Finished;
  message: Message3;
  reason: Reason6;
}
export interface Limits2 {
  [k: string]: string;
}
/**
 * Quantities as the pod spec writes them.
 */
export interface Requests1 {
  [k: string]: string;
}
/**
 * `DELETE kube/pods/NAME`: the pod is being deleted.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "KubeDeleted".
 */
export interface KubeDeleted {
  deleted: Deleted;
}
/**
 * `GET kube/KIND/NAME/describe`: the object's state and, first of all, what is wrong.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "KubeDescription".
 */
export interface KubeDescription {
  annotations: Annotations;
  conditions: Conditions1;
  containers: Containers;
  created: Created1;
  diagnosis: Diagnosis;
  events: Events;
  findings: Findings1;
  kind: Kind2;
  labels: Labels;
  name: Name6;
  namespace: Namespace4;
  owners: Owners1;
  row: KubeRow;
}
/**
 * Without kubectl's last-applied copy.
 */
export interface Annotations {
  [k: string]: string;
}
/**
 * One table row. Every kind has the fields named here; the other columns depend on the
 * kind (the page's `columns` names them), e.g. `ready`, `restarts`, `node` for pods.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "KubeRow".
 */
export interface KubeRow {
  age: Age;
  created?: Created2;
  deleting?: Deleting;
  health: Health;
  name: Name5;
  namespace: Namespace3;
  resource_version?: ResourceVersion;
  status: Status2;
  uid: Uid;
  [k: string]: unknown;
}
export interface Labels {
  [k: string]: string;
}
/**
 * One resource type the cluster serves.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "KubeKind".
 */
export interface KubeKind {
  custom: Custom;
  group: Group;
  kind: Kind3;
  namespaced: Namespaced;
  plural: Plural;
  version: Version1;
}
/**
 * `GET kube`: the namespace the server acts in and every kind it can show.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "KubeKinds".
 */
export interface KubeKinds {
  kinds: Kinds;
  namespace: Namespace5;
}
/**
 * `GET kube/pods/NAME/log`: the last lines of a container's log, now.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "KubeLog".
 */
export interface KubeLog {
  container: Container;
  lines: Lines;
  pod: Pod1;
}
/**
 * `GET kube/KIND/NAME`: the object as the cluster stores it, without `managedFields` and
 * without a Secret's values. Only the parts the browser reads are typed.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "KubeObject".
 */
export interface KubeObject {
  apiVersion: Apiversion;
  kind: Kind4;
  metadata: KubeObjectMeta;
  spec?: Spec;
  status?: Status3;
  [k: string]: unknown;
}
/**
 * An object's metadata; fields not named here are allowed as the API sends them.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "KubeObjectMeta".
 */
export interface KubeObjectMeta {
  annotations?: Annotations1;
  creationTimestamp?: Creationtimestamp;
  deletionTimestamp?: Deletiontimestamp;
  labels?: Labels1;
  name: Name7;
  namespace?: Namespace6;
  ownerReferences?: Ownerreferences;
  resourceVersion?: Resourceversion;
  uid: Uid2;
  [k: string]: unknown;
}
/**
 * Who owns an object, as its `metadata.ownerReferences` say.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "KubeOwnerReference".
 */
export interface KubeOwnerReference {
  apiVersion: Apiversion1;
  blockOwnerDeletion?: Blockownerdeletion;
  controller?: Controller;
  kind: Kind5;
  name: Name8;
  uid: Uid1;
  [k: string]: unknown;
}
/**
 * The body of `PATCH kube/deployments/NAME/scale`.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "KubeScaleRequest".
 */
export interface KubeScaleRequest {
  replicas: Replicas;
}
/**
 * `PATCH kube/deployments/NAME/scale`: the replicas the Deployment now asks for.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "KubeScaled".
 */
export interface KubeScaled {
  name: Name9;
  replicas: Replicas1;
}
/**
 * `GET kube/KIND`: one page of rows from the shared watch cache.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "KubeTablePage".
 */
export interface KubeTablePage {
  columns: Columns;
  error: Error;
  kind: Kind6;
  limit: Limit;
  namespace: Namespace7;
  offset: Offset;
  resource_version: ResourceVersion1;
  rows: Rows;
  total: Total;
}
/**
 * `GET kube/KIND/NAME/yaml`: the object as YAML, managed fields left out.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "KubeYaml".
 */
export interface KubeYaml {
  yaml: Yaml;
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
  type: Type2;
}
/**
 * Watch the rows of a kind: answered by a `snapshot`, then row changes.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "LiveSubscribe".
 */
export interface LiveSubscribe {
  id: Id;
  kind: Kind7;
  namespace?: Namespace8;
  op: Op;
}
/**
 * Stop a `subscribe` of the same id.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "LiveUnsubscribe".
 */
export interface LiveUnsubscribe {
  id: Id1;
  op: Op1;
}
/**
 * Follow a pod's log: answered by `lines` messages, then `end`.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "LiveFollow".
 */
export interface LiveFollow {
  container?: Container1;
  id: Id2;
  namespace?: Namespace9;
  op: Op2;
  pod: Pod2;
  previous?: Previous;
  tail?: Tail;
}
/**
 * Stop a `follow` of the same id.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "LiveUnfollow".
 */
export interface LiveUnfollow {
  id: Id3;
  op: Op3;
}
/**
 * Watch the pipeline runs of every source: answered by `runs` pushes.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "LiveWatchRuns".
 */
export interface LiveWatchRuns {
  id: Id4;
  op: Op4;
}
/**
 * Stop a `watch-runs` of the same id.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "LiveUnwatchRuns".
 */
export interface LiveUnwatchRuns {
  id: Id5;
  op: Op5;
}
/**
 * Watch the doctor's findings in a namespace: answered by `findings` pushes.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "LiveWatchDoctor".
 */
export interface LiveWatchDoctor {
  id: Id6;
  namespace?: Namespace10;
  op: Op6;
}
/**
 * Stop a `watch-doctor` of the same id.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "LiveUnwatchDoctor".
 */
export interface LiveUnwatchDoctor {
  id: Id7;
  op: Op7;
}
/**
 * A followed log ended: the container stopped.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "LiveEnd".
 */
export interface LiveEnd {
  id: Id8;
  type: Type3;
}
/**
 * A request was refused or failed; the channel stays open.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "LiveError".
 */
export interface LiveError {
  id: Id9;
  message: Message5;
  reason: Reason8;
  type: Type4;
}
/**
 * The doctor's findings: all of them first (`snapshot`), then what changed.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "LiveFindings".
 */
export interface LiveFindings {
  findings: Findings2;
  gone: Gone;
  id: Id10;
  snapshot?: Snapshot;
  type: Type5;
  unreadable: Unreadable2;
}
/**
 * By key `Kind/name/cause` (`#2`…): added or changed, or all in a snapshot.
 */
export interface Findings2 {
  [k: string]: Finding;
}
/**
 * Log lines of a followed pod, in order.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "LiveLines".
 */
export interface LiveLines {
  id: Id11;
  lines: Lines1;
  skipped: Skipped;
  type: Type6;
}
/**
 * One object of a subscribed table was added, changed or deleted: its row (as it was
 * last, for DELETED).
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "LiveRowChange".
 */
export interface LiveRowChange {
  id: Id12;
  row: KubeRow;
  type: Type7;
}
/**
 * Every row of a subscribed table, and its columns, in the table's order.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "LiveSnapshot".
 */
export interface LiveSnapshot {
  columns: Columns1;
  id: Id13;
  rows: Rows1;
  type: Type8;
}
/**
 * The table's watch is current again after a relist.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "LiveSynced".
 */
export interface LiveSynced {
  id: Id14;
  type: Type9;
}
/**
 * A push of the WebSocket's `watch-runs`: every row of each newest page first, then only
 * the rows that changed.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "RunsPush".
 */
export interface RunsPush {
  errors: Errors;
  gone: Gone1;
  id: Id15;
  runs: Runs;
  type: Type10;
}
/**
 * By source ('all': the backends could not be made): why it could not be read; null once it answers again.
 */
export interface Errors {
  [k: string]: PipelineSourceError | null;
}
/**
 * What a source that could not be read said: the routes' error envelope.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "PipelineSourceError".
 */
export interface PipelineSourceError {
  message: Message6;
  reason: Reason9;
}
/**
 * One row of the runs list: a run as a list shows it, marked with its source.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "PipelineRunRow".
 */
export interface PipelineRunRow {
  backend: Backend;
  created_at: CreatedAt;
  experiment: Experiment;
  finished_at: FinishedAt;
  id: Id16;
  name: Name10;
  pipeline_name: PipelineName;
  source: Source2;
  started_at: StartedAt;
  status: Status4;
  tasks_done: TasksDone;
  tasks_total: TasksTotal;
  url: Url1;
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
 * A file or folder among a run's artifacts; `path` is relative to the run's root.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "MlflowArtifact".
 */
export interface MlflowArtifact {
  is_dir: IsDir;
  path: Path;
  size: Size;
}
/**
 * `GET mlflow/runs/ID/artifacts`: the files and folders directly under one folder.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "MlflowArtifactList".
 */
export interface MlflowArtifactList {
  artifacts: Artifacts;
  path: Path1;
  run_id: RunId;
}
/**
 * An MLflow experiment: a named group of runs.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "MlflowExperiment".
 */
export interface MlflowExperiment {
  artifact_location: ArtifactLocation;
  created_at: CreatedAt1;
  id: Id17;
  lifecycle_stage: LifecycleStage;
  name: Name11;
  tags: Tags;
  updated_at: UpdatedAt;
}
export interface Tags {
  [k: string]: string;
}
/**
 * `GET mlflow/experiments`: one page of experiments, by name.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "MlflowExperimentPage".
 */
export interface MlflowExperimentPage {
  experiments: Experiments;
  next_page_token: NextPageToken;
}
/**
 * `GET mlflow/runs/ID/history`: a metric's values in step order, possibly downsampled.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "MlflowMetricHistory".
 */
export interface MlflowMetricHistory {
  downsampled: Downsampled;
  key: Key;
  points: Points;
  run_id: RunId1;
  total: Total1;
}
/**
 * One logged value of a metric (timestamp in milliseconds since the epoch).
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "MlflowMetricPoint".
 */
export interface MlflowMetricPoint {
  step: Step;
  timestamp: Timestamp;
  value: Value;
}
/**
 * A version of a registered model, with the aliases that point at it.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "MlflowModelVersion".
 */
export interface MlflowModelVersion {
  aliases: Aliases;
  created_at: CreatedAt2;
  description: Description;
  name: Name12;
  run_id: RunId2;
  source: Source3;
  status: Status5;
  tags: Tags1;
  updated_at: UpdatedAt1;
  version: Version2;
}
export interface Tags1 {
  [k: string]: string;
}
/**
 * `GET mlflow/models/NAME/versions`: one page of a model's versions, newest first.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "MlflowModelVersionPage".
 */
export interface MlflowModelVersionPage {
  name: Name13;
  next_page_token: NextPageToken1;
  versions: Versions;
}
/**
 * `GET mlflow/models/NAME`: a registered model; `aliases` maps each alias to a version.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "MlflowRegisteredModel".
 */
export interface MlflowRegisteredModel {
  aliases: Aliases1;
  created_at: CreatedAt3;
  description: Description1;
  name: Name14;
  tags: Tags2;
  updated_at: UpdatedAt2;
}
export interface Aliases1 {
  [k: string]: string;
}
export interface Tags2 {
  [k: string]: string;
}
/**
 * `GET mlflow/models`: one page of registered models, by name.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "MlflowRegisteredModelPage".
 */
export interface MlflowRegisteredModelPage {
  models: Models;
  next_page_token: NextPageToken2;
}
/**
 * `GET mlflow/runs/ID`: a run with every param, latest metric and tag.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "MlflowRun".
 */
export interface MlflowRun {
  artifact_uri: ArtifactUri;
  ended_at: EndedAt;
  experiment_id: ExperimentId;
  id: Id18;
  lifecycle_stage: LifecycleStage1;
  metrics: Metrics1;
  name: Name15;
  params: Params;
  started_at: StartedAt1;
  status: Status6;
  tags: Tags3;
  user: User;
}
/**
 * latest value of each metric
 */
export interface Metrics1 {
  [k: string]: number | null;
}
export interface Params {
  [k: string]: string;
}
export interface Tags3 {
  [k: string]: string;
}
/**
 * `GET mlflow/experiments/ID/runs`: one page of an experiment's runs.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "MlflowRunPage".
 */
export interface MlflowRunPage {
  experiment_id: ExperimentId1;
  next_page_token: NextPageToken3;
  runs: Runs1;
}
/**
 * A run as one row of the runs table: the chosen params and metrics only.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "MlflowRunSummary".
 */
export interface MlflowRunSummary {
  ended_at: EndedAt1;
  experiment_id: ExperimentId2;
  id: Id19;
  metrics: Metrics2;
  name: Name16;
  params: Params1;
  started_at: StartedAt2;
  status: Status7;
  user: User1;
}
/**
 * latest value of each metric
 */
export interface Metrics2 {
  [k: string]: number | null;
}
export interface Params1 {
  [k: string]: string;
}
/**
 * My notebook pod: what it asks for (if it is found) and what it uses now.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "MyPod".
 */
export interface MyPod {
  name: Name17;
  namespace: Namespace11;
  note?: Note2;
  /**
   * The Notebook (v1) or Workspace (Notebooks 2.0) it runs for.
   */
  owner?: NotebookOwner | null;
  pod?: PodResources | null;
  usage: MyUsage;
}
/**
 * The Notebook or Workspace my notebook pod belongs to, and its state.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "NotebookOwner".
 */
export interface NotebookOwner {
  api_version: ApiVersion;
  kind: Kind8;
  message?: Message7;
  name: Name18;
  note?: Note3;
  state?: State1;
  workspace_kind?: WorkspaceKind;
}
/**
 * A pod's requests and limits as the scheduler counts them, and its live use if known.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "PodResources".
 */
export interface PodResources {
  containers?: Containers1;
  limits?: Limits3;
  name: Name19;
  node?: Node1;
  phase?: Phase1;
  requests?: Requests2;
  usage?: Usage1;
}
export interface Limits3 {
  [k: string]: number;
}
export interface Requests2 {
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
  namespace: Namespace12;
  refusals: Refusals;
  size: Size1;
}
export interface Size1 {
  [k: string]: number;
}
/**
 * An experiment of one source.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "PipelineExperiment".
 */
export interface PipelineExperiment {
  created_at: CreatedAt4;
  description: Description2;
  id: Id20;
  name: Name20;
  source: Source4;
}
/**
 * `GET pipelines/experiments`: the experiments of every source asked for.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "PipelineExperimentsPage".
 */
export interface PipelineExperimentsPage {
  errors: Errors1;
  experiments: Experiments1;
}
/**
 * By source: why it could not be read (the others are still listed).
 */
export interface Errors1 {
  [k: string]: PipelineSourceError;
}
/**
 * An MLflow run recorded for a pipeline run: the run's own (`task` null), or a task's.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "PipelineMlflowRun".
 */
export interface PipelineMlflowRun {
  experiment_id: ExperimentId3;
  mlflow_run_id: MlflowRunId;
  name: Name21;
  status: Status8;
  task: Task;
}
/**
 * `POST pipelines/runs/ID/terminate` and `.../retry`: the run as the action left it.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "PipelineRunChanged".
 */
export interface PipelineRunChanged {
  backend: Backend1;
  created_at: CreatedAt5;
  error: Error1;
  experiment: Experiment1;
  finished_at: FinishedAt1;
  id: Id21;
  links: PipelineRunLinks;
  /**
   * The MLflow run the Pipelines server links to the run, when it has MLflow on.
   */
  mlflow: PipelineServerMlflow | null;
  name: Name22;
  outputs: Outputs;
  parameters: Parameters;
  pid: Pid;
  pipeline_name: PipelineName1;
  retry_of: RetryOf;
  source: Source5;
  started_at: StartedAt3;
  status: Status9;
  tasks: Tasks;
  tasks_done: TasksDone1;
  tasks_total: TasksTotal1;
  url: Url3;
}
/**
 * Pages about the run elsewhere; a link that does not exist is left out.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "PipelineRunLinks".
 */
export interface PipelineRunLinks {
  dashboard?: Dashboard;
  mlflow?: Mlflow;
}
/**
 * The MLflow run the Pipelines server made for a run itself (its `plugins_output`).
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "PipelineServerMlflow".
 */
export interface PipelineServerMlflow {
  experiment_id: ExperimentId4;
  experiment_name: ExperimentName;
  message: Message8;
  run_id: RunId3;
  state: State2;
  url: Url2;
}
export interface Outputs {
  [k: string]: unknown;
}
export interface Parameters {
  [k: string]: unknown;
}
/**
 * One step of a run: a component executed with its inputs.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "PipelineTask".
 */
export interface PipelineTask {
  depends_on: DependsOn;
  finished_at: FinishedAt2;
  group: Group1;
  id: Id22;
  inputs: Inputs;
  name: Name23;
  outputs: Outputs1;
  pod: Pod3;
  started_at: StartedAt4;
  state: State3;
}
export interface Inputs {
  [k: string]: unknown;
}
export interface Outputs1 {
  [k: string]: unknown;
}
/**
 * `GET pipelines/runs/ID`: a run with its tasks, arguments, outputs and links.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "PipelineRunDetail".
 */
export interface PipelineRunDetail {
  backend: Backend2;
  created_at: CreatedAt6;
  error: Error2;
  experiment: Experiment2;
  finished_at: FinishedAt3;
  id: Id23;
  links: PipelineRunLinks;
  mlflow: Mlflow1;
  name: Name24;
  outputs: Outputs2;
  parameters: Parameters1;
  pid: Pid1;
  pipeline_name: PipelineName2;
  retry_of: RetryOf1;
  source: Source6;
  started_at: StartedAt5;
  status: Status10;
  tasks: Tasks1;
  tasks_done: TasksDone2;
  tasks_total: TasksTotal2;
  url: Url4;
}
export interface Outputs2 {
  [k: string]: unknown;
}
export interface Parameters1 {
  [k: string]: unknown;
}
/**
 * `GET pipelines/runs`: one page of each source asked for, side by side.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "PipelineRunsPage".
 */
export interface PipelineRunsPage {
  errors: Errors2;
  pages: Pages;
  runs: Runs2;
}
/**
 * By source: why it could not be read (the others are still listed).
 */
export interface Errors2 {
  [k: string]: PipelineSourceError;
}
/**
 * By source that answered.
 */
export interface Pages {
  [k: string]: PipelineSourcePage;
}
/**
 * Where one source's list goes on.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "PipelineSourcePage".
 */
export interface PipelineSourcePage {
  next_page_token: NextPageToken4;
  total_size: TotalSize;
}
/**
 * `GET pipelines/runs/ID/tasks/TASK/log`: what a task printed.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "PipelineTaskLog".
 */
export interface PipelineTaskLog {
  run: Run;
  source: Source7;
  task: Task1;
  text: Text1;
}
/**
 * What a check before applying found: an error blocks, a warning or a note does not.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "PlanFinding".
 */
export interface PlanFinding {
  check: Check;
  fix: Fix1;
  message: Message9;
  severity: Severity1;
}
/**
 * A v2 inference request; named tensors read as a table's columns unless
 * parameters.content_type says otherwise.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "PredictInputs".
 */
export interface PredictInputs {
  id?: Id24;
  inputs: Inputs1;
  parameters?: Parameters3;
}
/**
 * A v2 tensor of a request.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "Tensor".
 */
export interface Tensor {
  data: Data;
  datatype: Datatype;
  name: Name25;
  parameters?: Parameters2;
  shape: Shape;
}
/**
 * Values by column, as a table.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "PredictColumns".
 */
export interface PredictColumns {
  columns: Columns2;
}
/**
 * Each column's values (a list, or one value).
 */
export interface Columns2 {
  [k: string]: unknown;
}
/**
 * A prediction as columns and rows, for a table on screen.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "PredictionTable".
 */
export interface PredictionTable {
  columns: Columns3;
  rows: Rows2;
  total: Total2;
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
  namespace: Namespace13;
  pods: Pods1;
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
  phase: Phase2;
  pods?: Pods2;
  size: Size2;
  storage_class: StorageClass;
  warning?: Warning;
}
/**
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "VolumePod".
 */
export interface VolumePod {
  name: Name26;
  node: Node2;
}
/**
 * `POST serving/serve`: the service as applied (not Ready yet), what the checks found
 * and the manifest applied.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "ServeAnswer".
 */
export interface ServeAnswer {
  findings: Findings3;
  manifest: Manifest;
  service: AppliedService;
}
/**
 * `POST serving/serve`: a version or an alias of a registered model.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "ServeRequest".
 */
export interface ServeRequest {
  alias?: Alias1;
  canary?: Canary;
  deployment_mode?: DeploymentMode1;
  mode?: Mode2;
  model: Model1;
  name?: Name27;
  runtime?: Runtime1;
  service_account?: ServiceAccount;
  version?: Version3;
}
/**
 * `GET serving/services/NAME/metadata`: the model's v2 metadata as its server sent it
 * (its signature); every key is the server's, so none is required.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "ServingMetadata".
 */
export interface ServingMetadata {
  inputs?: Inputs2;
  name?: Name29;
  outputs?: Outputs3;
  parameters?: Parameters4;
  platform?: Platform;
  versions?: Versions1;
  [k: string]: unknown;
}
/**
 * One input or output of a model's v2 metadata; a model server may add its own keys.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "TensorSpec".
 */
export interface TensorSpec {
  datatype: Datatype1;
  name: Name28;
  shape: Shape1;
  [k: string]: unknown;
}
/**
 * `POST serving/services/NAME/predict`: the model's answer and how long it took.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "ServingPrediction".
 */
export interface ServingPrediction {
  latency_ms: LatencyMs;
  mode: Mode3;
  name: Name30;
  response: Response;
  table: PredictionTable;
  url: Url5;
}
/**
 * The v2 inference response as the model server sent it.
 */
export interface Response {
  [k: string]: unknown;
}
/**
 * A served model as the sidebar lists it: with the doctor's findings when an
 * InferenceService is not Ready, and where its alias points now.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "ServingService".
 */
export interface ServingService {
  alias: Alias2;
  alias_version: AliasVersion;
  canary_percent: CanaryPercent1;
  conditions: Conditions2;
  created: Created3;
  deployment_mode: DeploymentMode2;
  findings: Findings4;
  mode: Mode4;
  model: Model2;
  model_format: ModelFormat1;
  name: Name31;
  namespace: Namespace14;
  pods: Pods3;
  ready: Ready3;
  reason: Reason10;
  runtime: Runtime2;
  storage_uri: StorageUri1;
  traffic: Traffic1;
  url: Url6;
  version: Version4;
}
/**
 * `GET serving/services`: every served model, local and in the namespace.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "ServingServiceList".
 */
export interface ServingServiceList {
  errors: Errors3;
  namespace: Namespace15;
  services: Services;
}
/**
 * What a source (cluster, pods) said when it could not be read.
 */
export interface Errors3 {
  [k: string]: string;
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
  version: Version5;
}
/**
 * The best trial so far, by the objective and its direction.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "TuningBest".
 */
export interface TuningBest {
  parameters: Parameters5;
  trial: Trial;
  value: Value1;
}
export interface Parameters5 {
  [k: string]: unknown;
}
/**
 * A search's two charts, as SVG with every text in them escaped.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "TuningCharts".
 */
export interface TuningCharts {
  metric_by_trial: MetricByTrial;
  parallel_coordinates: ParallelCoordinates;
}
/**
 * `GET tuning/experiments/NAME`: the search, its trials and its two charts.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "TuningDetail".
 */
export interface TuningDetail {
  algorithm: Algorithm;
  best: TuningBest | null;
  charts: TuningCharts;
  component: Component;
  created_at: CreatedAt7;
  direction: Direction;
  max_failed: MaxFailed;
  message: Message10;
  metric: Metric;
  name: Name32;
  namespace: Namespace16;
  parallel: Parallel;
  space: Space;
  state: TuningState;
  stopped: Stopped;
  trials: Trials;
  trials_done: TrialsDone;
  trials_total: TrialsTotal;
  where: Where;
}
/**
 * Each parameter's range, as written.
 */
export interface Space {
  [k: string]: string;
}
/**
 * One trial: its parameters, the objective and other metrics, state and duration.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "TuningTrial".
 */
export interface TuningTrial {
  message: Message11;
  metrics: Metrics3;
  name: Name33;
  objective: Objective;
  parameters: Parameters6;
  seconds: Seconds;
  state: TrialState;
}
/**
 * Every metric it reported.
 */
export interface Metrics3 {
  [k: string]: number | null;
}
export interface Parameters6 {
  [k: string]: unknown;
}
/**
 * `GET tuning/experiments`: local searches, then the namespace's Katib Experiments.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "TuningList".
 */
export interface TuningList {
  errors: Errors4;
  experiments: Experiments2;
  namespace: Namespace18;
}
/**
 * What a place (cluster) said when it could not be read.
 */
export interface Errors4 {
  [k: string]: string;
}
/**
 * A search as the list shows it.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "TuningSummary".
 */
export interface TuningSummary {
  algorithm: Algorithm1;
  best: TuningBest | null;
  component: Component1;
  created_at: CreatedAt8;
  direction: Direction1;
  message: Message12;
  metric: Metric1;
  name: Name34;
  namespace: Namespace17;
  state: TuningState;
  stopped: Stopped1;
  trials_done: TrialsDone1;
  trials_total: TrialsTotal1;
  where: Where1;
}
/**
 * A pipeline uploaded to Kubeflow Pipelines, runnable by any of its versions.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "UploadedPipeline".
 */
export interface UploadedPipeline {
  created_at: CreatedAt9;
  description: Description3;
  display_name: DisplayName;
  id: Id25;
  name: Name35;
  namespace: Namespace19;
}
/**
 * One uploaded version of a pipeline.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "UploadedPipelineVersion".
 */
export interface UploadedPipelineVersion {
  created_at: CreatedAt10;
  description: Description4;
  display_name: DisplayName1;
  id: Id26;
  name: Name36;
  pipeline_id: PipelineId;
}
/**
 * `GET pipelines/pipelines/ID/versions`: one page of a pipeline's versions.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "UploadedPipelineVersionsPage".
 */
export interface UploadedPipelineVersionsPage {
  next_page_token: NextPageToken5;
  total_size: TotalSize1;
  versions: Versions2;
}
/**
 * `GET pipelines/pipelines`: one page of uploaded pipelines.
 *
 * This interface was referenced by `JupyterMlopsAPIModels`'s JSON-Schema
 * via the `definition` "UploadedPipelinesPage".
 */
export interface UploadedPipelinesPage {
  next_page_token: NextPageToken6;
  pipelines: Pipelines;
  total_size: TotalSize2;
}
