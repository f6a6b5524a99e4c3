"""The KFP API's behaviour over in-memory state: namespaces, access checks and every operation."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .execution import TaskRunner
from .listing import Listable, ListQuery, list_page
from .pipeline_spec import pipeline_name, read_package, root_dag, tasks_of
from .recurring import (
    RECURRING_RUN_FIELDS,
    due_at,
    enabled_of,
    max_concurrency_of,
    run_name,
    swf_name_base,
    trigger_of,
)
from .resources import (
    EXPERIMENTS,
    PIPELINE_VERSIONS,
    PIPELINES,
    RECURRING_RUNS,
    RUNS,
    Experiment,
    Pipeline,
    PipelineVersion,
    RecurringRun,
    Run,
    Task,
    now,
)
from .wire import (
    ApiError,
    GrpcCode,
    already_exists,
    failed_precondition,
    invalid_input,
    message,
    not_found,
)

__all__ = ["DEFAULT_EXPERIMENT", "Identity", "KfpService", "ListParams"]

DEFAULT_EXPERIMENT = "Default"
NAME_SUFFIX_CHARACTERS = "bcdfghjklmnpqrstvwxz2456789"
MULTI_USER_RUNNER = "default-editor"
SINGLE_USER_RUNNER = "pipeline-runner"
SCHEDULE_TICK_SECONDS = 0.2

# Fields of the request bodies, from the kfp_server_api models; the server rejects others.
EXPERIMENT_FIELDS = frozenset(
    {
        "experiment_id",
        "display_name",
        "description",
        "created_at",
        "namespace",
        "storage_state",
        "last_run_created_at",
    }
)
RUN_FIELDS = frozenset(
    {
        "experiment_id",
        "run_id",
        "display_name",
        "storage_state",
        "description",
        "pipeline_version_id",
        "pipeline_spec",
        "pipeline_version_reference",
        "runtime_config",
        "service_account",
        "created_at",
        "scheduled_at",
        "finished_at",
        "state",
        "error",
        "run_details",
        "recurring_run_id",
        "state_history",
        "plugins_input",
    }
)
PIPELINE_FIELDS = frozenset(
    {
        "pipeline_id",
        "display_name",
        "name",
        "description",
        "created_at",
        "namespace",
        "error",
        "tags",
    }
)
VERSION_FIELDS = frozenset(
    {
        "pipeline_id",
        "pipeline_version_id",
        "display_name",
        "name",
        "description",
        "created_at",
        "package_url",
        "code_source_url",
        "pipeline_spec",
        "error",
        "tags",
    }
)


@dataclass(frozen=True)
class Identity:
    """Who a request acts as: a user, the namespaces they may use (None: all), expiry."""

    user: str
    namespaces: frozenset[str] | None = None
    expired: bool = False

    def may_use(self, namespace: str) -> bool:
        """Whether the user holds the ``kubeflow-edit`` role in ``namespace``."""
        return self.namespaces is None or namespace in self.namespaces


@dataclass(frozen=True)
class ListParams:
    """The list query parameters every ``List*`` call takes."""

    page_token: str = ""
    page_size: str = ""
    sort_by: str = ""
    filter: str = ""

    def query(self, listable: Listable[Any]) -> ListQuery:
        """Validate into a ListQuery; raises ApiError (400)."""
        return ListQuery.parse(
            listable,
            page_token=self.page_token,
            page_size=self.page_size,
            sort_by=self.sort_by,
            filter_text=self.filter,
        )


def _reject_unknown(body: Mapping[str, Any], allowed: frozenset[str]) -> None:
    for name in body:
        if name not in allowed:
            raise ApiError(GrpcCode.INVALID_ARGUMENT, f'proto: (line 1:2): unknown field "{name}"')


def _string(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ApiError(
            GrpcCode.INVALID_ARGUMENT,
            f"proto: (line 1:2): invalid value for string field {name}: {json.dumps(value)}",
        )
    return value


def _object(body: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ApiError(
            GrpcCode.INVALID_ARGUMENT,
            f"proto: (line 1:2): invalid value for message field {name}: {json.dumps(value)}",
        )
    return value


def _tags(raw: Any) -> dict[str, str]:
    if raw in (None, ""):
        return {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as error:
            raise invalid_input(f"Failed to parse the tags as a JSON map: {error}") from error
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise invalid_input("Tags must be a map of strings to strings")
    return {str(k): v for k, v in raw.items()}


def _named(name: str) -> Callable[[Task], bool]:
    """Whether a task is named ``name`` (nothing is, for an empty name)."""
    return lambda task: bool(name) and task.name == name


def _workflow_name(spec: Mapping[str, Any]) -> str:
    base = re.sub(r"[^a-z0-9-]+", "-", pipeline_name(spec).lower()).strip("-")[:50] or "pipeline"
    # generateName's suffix: five of the characters Kubernetes picks from.
    suffix = "".join(random.choices(NAME_SUFFIX_CHARACTERS, k=5))
    return f"{base}-{suffix}"


class KfpService:
    """Every operation of the v2beta1 API over in-memory state; raises ApiError on refusal."""

    def __init__(self, *, multi_user: bool, runner: TaskRunner) -> None:
        self.multi_user = multi_user
        self.runner = runner
        self.experiments: dict[str, Experiment] = {}
        self.pipelines: dict[str, Pipeline] = {}
        self.versions: dict[str, PipelineVersion] = {}
        self.runs: dict[str, Run] = {}
        self.recurring_runs: dict[str, RecurringRun] = {}
        # The ServiceAccount runs get when none is asked for, as the deployment configures it.
        self.runner_account = MULTI_USER_RUNNER if multi_user else SINGLE_USER_RUNNER
        self._schedules: asyncio.Task[None] | None = None
        self._metadata_ids = itertools.count(1)

    # -- access ------------------------------------------------------------------------

    def _authorize(
        self,
        who: Identity,
        namespace: str,
        verb: str,
        resource: str,
        name: str = "",
        *,
        context: str = "",
    ) -> None:
        """Refuse as the real server does; `context` prefixes the message as its callers wrap."""
        if not self.multi_user or who.may_use(namespace):
            return
        error = ApiError(
            GrpcCode.PERMISSION_DENIED,
            f"Failed to authorize with API: PermissionDenied: User '{who.user}' is not "
            f"authorized with reason:  (request: &ResourceAttributes{{Namespace:{namespace},"
            f"Verb:{verb},Group:pipelines.kubeflow.org,Version:v1beta1,Resource:{resource},"
            f"Subresource:,Name:{name},}})",
            f"User '{who.user}' is not authorized to {verb} {resource} in namespace '{namespace}'",
        )
        raise error.wrap(context) if context else error

    def _namespace(self, namespace: str) -> str:
        # Single-user servers ignore namespaces: everything lives in the empty one.
        return namespace if self.multi_user else ""

    # -- experiments ---------------------------------------------------------------------

    def ensure_default_experiment(self, namespace: str) -> Experiment:
        """The namespace's ``Default`` experiment, created when missing."""
        namespace = self._namespace(namespace)
        for experiment in self.experiments.values():
            if experiment.namespace == namespace and experiment.display_name == DEFAULT_EXPERIMENT:
                return experiment
        return self._new_experiment(
            DEFAULT_EXPERIMENT,
            namespace,
            "All runs created without specifying an experiment will be grouped here.",
        )

    def _new_experiment(self, name: str, namespace: str, description: str) -> Experiment:
        experiment = Experiment(
            experiment_id=str(uuid.uuid4()),
            display_name=name,
            namespace=namespace,
            created_at=now(),
            description=description,
        )
        self.experiments[experiment.experiment_id] = experiment
        return experiment

    def create_experiment(self, who: Identity, body: Mapping[str, Any]) -> dict[str, Any]:
        """CreateExperiment."""
        context = "Failed to create an experiment"
        _reject_unknown(body, EXPERIMENT_FIELDS)
        name = _string(body, "display_name")
        namespace = self._namespace(_string(body, "namespace"))
        if not name:
            raise invalid_input(
                "Experiment name is empty. Please specify a valid experiment name"
            ).wrap(context)
        if self.multi_user and not namespace:
            raise invalid_input(
                "Experiment namespace is empty. In multi-user mode an experiment needs the "
                "namespace of a profile"
            ).wrap(context)
        self._authorize(who, namespace, "create", "experiments")
        for experiment in self.experiments.values():
            if experiment.namespace == namespace and experiment.display_name == name:
                raise already_exists(
                    f"Failed to create a new experiment. The name {name} already exists. "
                    "Please specify a new name"
                ).wrap(context)
        created = self._new_experiment(name, namespace, _string(body, "description"))
        return created.to_api()

    def _experiment(self, who: Identity, experiment_id: str, verb: str, context: str) -> Experiment:
        experiment = self.experiments.get(experiment_id)
        if experiment is None:
            raise not_found("Experiment", experiment_id).wrap(context)
        self._authorize(
            who, experiment.namespace, verb, "experiments", experiment_id, context=context
        )
        return experiment

    def get_experiment(self, who: Identity, experiment_id: str) -> dict[str, Any]:
        """GetExperiment."""
        return self._experiment(who, experiment_id, "get", "Failed to get an experiment").to_api()

    def list_experiments(self, who: Identity, namespace: str, params: ListParams) -> dict[str, Any]:
        """ListExperiments in one namespace."""
        context = "Failed to list experiments"
        query = params.query(EXPERIMENTS)
        namespace = self._namespace(namespace)
        if self.multi_user and not namespace:
            raise invalid_input(
                "ListExperiments requires filtering by namespace in multi-user mode"
            ).wrap(context)
        self._authorize(who, namespace, "list", "experiments", context=context)
        scope = [e for e in self.experiments.values() if e.namespace == namespace]
        page = list_page(EXPERIMENTS, scope, query)
        return message(
            experiments=[e.to_api() for e in page.items],
            total_size=page.total_size,
            next_page_token=page.next_page_token,
        )

    def archive_experiment(self, who: Identity, experiment_id: str, archived: bool) -> None:
        """ArchiveExperiment (its runs too) or UnarchiveExperiment (the runs stay archived)."""
        verb = "archive" if archived else "unarchive"
        experiment = self._experiment(who, experiment_id, verb, f"Failed to {verb} experiment")
        experiment.storage_state = "ARCHIVED" if archived else "AVAILABLE"
        if archived:
            for run in self.runs.values():
                if run.experiment_id == experiment_id:
                    run.storage_state = "ARCHIVED"

    def delete_experiment(self, who: Identity, experiment_id: str) -> None:
        """DeleteExperiment."""
        self._experiment(who, experiment_id, "delete", "Failed to delete an experiment")
        del self.experiments[experiment_id]

    # -- pipelines -----------------------------------------------------------------------

    def _pipeline(self, who: Identity, pipeline_id: str, verb: str, context: str) -> Pipeline:
        pipeline = self.pipelines.get(pipeline_id)
        if pipeline is None:
            raise not_found("Pipeline", pipeline_id).wrap(context)
        if pipeline.namespace:
            self._authorize(
                who, pipeline.namespace, verb, "pipelines", pipeline_id, context=context
            )
        return pipeline

    def _new_pipeline(
        self,
        who: Identity,
        *,
        name: str,
        display_name: str,
        namespace: str,
        description: str,
        tags: dict[str, str],
        context: str,
    ) -> Pipeline:
        namespace = self._namespace(namespace)
        if not name:
            raise invalid_input("Pipeline name cannot be empty").wrap(context)
        if namespace:
            self._authorize(who, namespace, "create", "pipelines", context=context)
        for pipeline in self.pipelines.values():
            if pipeline.namespace == namespace and pipeline.name == name:
                raise already_exists(
                    f"Failed to create a new pipeline. The name {name} already exists. "
                    "Please specify a new name"
                ).wrap(context)
        pipeline = Pipeline(
            pipeline_id=str(uuid.uuid4()),
            name=name,
            display_name=display_name or name,
            namespace=namespace,
            created_at=now(),
            description=description,
            tags=tags,
        )
        self.pipelines[pipeline.pipeline_id] = pipeline
        return pipeline

    def _new_version(
        self,
        pipeline: Pipeline,
        *,
        name: str,
        display_name: str,
        description: str,
        spec: dict[str, Any],
        tags: dict[str, str],
        context: str,
        code_source_url: str = "",
    ) -> PipelineVersion:
        name = name or pipeline.name
        for version in self.versions.values():
            if version.pipeline_id == pipeline.pipeline_id and version.name == name:
                raise already_exists(
                    f"Failed to create a new pipeline version. The name {name} already exists "
                    f"in pipeline {pipeline.pipeline_id}. Please specify a new name"
                ).wrap(context)
        version = PipelineVersion(
            pipeline_version_id=str(uuid.uuid4()),
            pipeline_id=pipeline.pipeline_id,
            name=name,
            display_name=display_name or name,
            created_at=now(),
            pipeline_spec=spec,
            description=description,
            code_source_url=code_source_url,
            tags=tags,
        )
        self.versions[version.pipeline_version_id] = version
        return version

    def upload_pipeline(
        self,
        who: Identity,
        *,
        filename: str,
        content: bytes,
        name: str,
        display_name: str,
        description: str,
        namespace: str,
        tags: str,
    ) -> dict[str, Any]:
        """UploadPipeline: a pipeline and its first version from a package file."""
        context = "Failed to create a pipeline and a pipeline version"
        try:
            spec = read_package(filename, content)
        except ApiError as error:
            raise error.wrap(context) from None
        name = name or display_name or re.sub(r"\.(ya?ml|json|zip|tar\.gz|tgz)$", "", filename)
        pipeline = self._new_pipeline(
            who,
            name=name,
            display_name=display_name,
            namespace=namespace,
            description=description,
            tags=_tags(tags),
            context=context,
        )
        self._new_version(
            pipeline,
            name=name,
            display_name=display_name,
            description=description,
            spec=spec,
            tags={},
            context=context,
        )
        return pipeline.to_api()

    def upload_version(
        self,
        who: Identity,
        *,
        filename: str,
        content: bytes,
        pipeline_id: str,
        name: str,
        display_name: str,
        description: str,
        tags: str,
    ) -> dict[str, Any]:
        """UploadPipelineVersion under an existing pipeline."""
        context = "Failed to create a pipeline version"
        if not pipeline_id:
            raise invalid_input("Failed to create a pipeline version due to missing pipeline id")
        pipeline = self._pipeline(who, pipeline_id, "update", context)
        try:
            spec = read_package(filename, content)
        except ApiError as error:
            raise error.wrap(context) from None
        version = self._new_version(
            pipeline,
            name=name or display_name or filename,
            display_name=display_name,
            description=description,
            spec=spec,
            tags=_tags(tags),
            context=context,
        )
        return version.to_api()

    def create_pipeline(self, who: Identity, body: Mapping[str, Any]) -> dict[str, Any]:
        """CreatePipeline (no version)."""
        _reject_unknown(body, PIPELINE_FIELDS)
        name = _string(body, "name") or _string(body, "display_name")
        pipeline = self._new_pipeline(
            who,
            name=name,
            display_name=_string(body, "display_name"),
            namespace=_string(body, "namespace"),
            description=_string(body, "description"),
            tags=_tags(body.get("tags")),
            context="Failed to create a pipeline",
        )
        return pipeline.to_api()

    def _version_spec(self, body: Mapping[str, Any], context: str) -> dict[str, Any]:
        spec = _object(body, "pipeline_spec")
        if spec is None:
            if _object(body, "package_url"):
                raise invalid_input(
                    "Fetching a package from package_url is not available in this emulated "
                    "server; upload the package or send pipeline_spec"
                ).wrap(context)
            raise invalid_input("Pipeline spec is empty").wrap(context)
        try:
            tasks_of(spec)
        except ApiError as error:
            raise error.wrap(context) from None
        return spec

    def create_version(
        self, who: Identity, pipeline_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """CreatePipelineVersion from an inline pipeline spec."""
        context = "Failed to create a pipeline version"
        _reject_unknown(body, VERSION_FIELDS)
        pipeline = self._pipeline(who, pipeline_id, "update", context)
        version = self._new_version(
            pipeline,
            name=_string(body, "name") or _string(body, "display_name"),
            display_name=_string(body, "display_name"),
            description=_string(body, "description"),
            spec=self._version_spec(body, context),
            tags=_tags(body.get("tags")),
            context=context,
            code_source_url=_string(body, "code_source_url"),
        )
        return version.to_api()

    def create_pipeline_and_version(self, who: Identity, body: Mapping[str, Any]) -> dict[str, Any]:
        """CreatePipelineAndVersion."""
        context = "Failed to create a pipeline and a pipeline version"
        _reject_unknown(body, frozenset({"pipeline", "pipeline_version"}))
        pipeline_body = _object(body, "pipeline") or {}
        version_body = _object(body, "pipeline_version") or {}
        _reject_unknown(pipeline_body, PIPELINE_FIELDS)
        _reject_unknown(version_body, VERSION_FIELDS)
        spec = self._version_spec(version_body, context)
        name = _string(pipeline_body, "name") or _string(pipeline_body, "display_name")
        pipeline = self._new_pipeline(
            who,
            name=name,
            display_name=_string(pipeline_body, "display_name"),
            namespace=_string(pipeline_body, "namespace"),
            description=_string(pipeline_body, "description"),
            tags=_tags(pipeline_body.get("tags")),
            context=context,
        )
        self._new_version(
            pipeline,
            name=_string(version_body, "name") or _string(version_body, "display_name"),
            display_name=_string(version_body, "display_name"),
            description=_string(version_body, "description"),
            spec=spec,
            tags=_tags(version_body.get("tags")),
            context=context,
        )
        return pipeline.to_api()

    def get_pipeline(self, who: Identity, pipeline_id: str) -> dict[str, Any]:
        """GetPipeline."""
        return self._pipeline(who, pipeline_id, "get", "Failed to get a pipeline").to_api()

    def get_pipeline_by_name(self, who: Identity, name: str, namespace: str) -> dict[str, Any]:
        """GetPipelineByName, in ``namespace`` or among the shared pipelines."""
        context = "Failed to get a pipeline by name"
        namespace = self._namespace(namespace)
        if namespace:
            self._authorize(who, namespace, "get", "pipelines", context=context)
        for pipeline in self.pipelines.values():
            if pipeline.namespace == namespace and pipeline.name == name:
                return pipeline.to_api()
        raise not_found("Pipeline", name).wrap(context)

    def list_pipelines(self, who: Identity, namespace: str, params: ListParams) -> dict[str, Any]:
        """ListPipelines of a namespace, or the shared ones when it is empty."""
        context = "Failed to list pipelines"
        query = params.query(PIPELINES)
        namespace = self._namespace(namespace)
        if namespace:
            self._authorize(who, namespace, "list", "pipelines", context=context)
        scope = [p for p in self.pipelines.values() if p.namespace == namespace]
        page = list_page(PIPELINES, scope, query)
        return message(
            pipelines=[p.to_api() for p in page.items],
            total_size=page.total_size,
            next_page_token=page.next_page_token,
        )

    def delete_pipeline(self, who: Identity, pipeline_id: str, cascade: bool) -> None:
        """DeletePipeline; refused while versions exist unless ``cascade``."""
        context = "Failed to delete a pipeline"
        self._pipeline(who, pipeline_id, "delete", context)
        versions = [v for v in self.versions.values() if v.pipeline_id == pipeline_id]
        if versions and not cascade:
            raise failed_precondition(
                f"Failed to delete pipeline {pipeline_id}. The pipeline has "
                f"{len(versions)} existing pipeline version(s); delete them first or set "
                "cascade=true"
            ).wrap(context)
        for version in versions:
            del self.versions[version.pipeline_version_id]
        del self.pipelines[pipeline_id]

    def _version(
        self, who: Identity, pipeline_id: str, version_id: str, verb: str, context: str
    ) -> PipelineVersion:
        self._pipeline(who, pipeline_id, verb, context)
        version = self.versions.get(version_id)
        if version is None or version.pipeline_id != pipeline_id:
            raise not_found("PipelineVersion", version_id).wrap(context)
        return version

    def get_version(self, who: Identity, pipeline_id: str, version_id: str) -> dict[str, Any]:
        """GetPipelineVersion."""
        context = "Failed to get a pipeline version"
        return self._version(who, pipeline_id, version_id, "get", context).to_api()

    def list_versions(self, who: Identity, pipeline_id: str, params: ListParams) -> dict[str, Any]:
        """ListPipelineVersions of one pipeline."""
        query = params.query(PIPELINE_VERSIONS)
        self._pipeline(who, pipeline_id, "list", "Failed to list pipeline versions")
        scope = [v for v in self.versions.values() if v.pipeline_id == pipeline_id]
        page = list_page(PIPELINE_VERSIONS, scope, query)
        return message(
            pipeline_versions=[v.to_api() for v in page.items],
            next_page_token=page.next_page_token,
            total_size=page.total_size,
        )

    def delete_version(self, who: Identity, pipeline_id: str, version_id: str) -> None:
        """DeletePipelineVersion."""
        context = "Failed to delete a pipeline version"
        self._version(who, pipeline_id, version_id, "delete", context)
        del self.versions[version_id]

    # -- runs ----------------------------------------------------------------------------

    def _run(self, who: Identity, run_id: str, verb: str, context: str) -> Run:
        run = self.runs.get(run_id)
        if run is None:
            raise not_found("Run", run_id).wrap(context)
        self._authorize(who, run.namespace, verb, "runs", run_id, context=context)
        return run

    def create_run(
        self, who: Identity, body: Mapping[str, Any], experiment_param: str = ""
    ) -> dict[str, Any]:
        """CreateRun from a pipeline spec or a pipeline version reference; starts it."""
        context = "Failed to create a new run"
        _reject_unknown(body, RUN_FIELDS)
        display_name = _string(body, "display_name")
        if not display_name:
            raise invalid_input("The run name is empty. Please specify a valid name").wrap(
                f"{context}: Failed to create a run due to invalid name"
            )
        experiment = self._run_experiment(
            _string(body, "experiment_id") or experiment_param, context
        )
        try:
            self._authorize(who, experiment.namespace, "create", "runs")
        except ApiError as error:
            raise error.wrap(
                f"{context}: Failed to create a run due to authorization error. Check if you "
                f"have write permissions to namespace {experiment.namespace}"
            ) from None
        if experiment.storage_state == "ARCHIVED":
            raise failed_precondition(
                f"Experiment {experiment.experiment_id} is archived; unarchive it to add runs"
            ).wrap(context)
        spec, pipeline_id, version_id = self._run_source(who, body, context)
        runtime = _object(body, "runtime_config") or {}
        run = self.start_run(
            experiment,
            spec=spec,
            display_name=display_name,
            runtime=runtime,
            context=context,
            pipeline_id=pipeline_id,
            pipeline_version_id=version_id,
            description=_string(body, "description"),
            service_account=_string(body, "service_account"),
        )
        return run.to_api()

    def start_run(
        self,
        experiment: Experiment,
        *,
        spec: dict[str, Any],
        display_name: str,
        runtime: Mapping[str, Any],
        context: str,
        pipeline_id: str = "",
        pipeline_version_id: str = "",
        description: str = "",
        service_account: str = "",
        recurring_run_id: str = "",
        workflow: str = "",
    ) -> Run:
        """Make a run of ``spec`` in ``experiment`` and start driving it; raises ApiError."""
        try:
            dag = root_dag(spec)
        except ApiError as error:
            raise error.wrap(context) from None
        parameters = runtime.get("parameters") or {}
        if not isinstance(parameters, dict):
            raise invalid_input("runtime_config.parameters must be a map").wrap(context)
        created = now()
        run = Run(
            run_id=str(uuid.uuid4()),
            experiment_id=experiment.experiment_id,
            namespace=experiment.namespace,
            display_name=display_name,
            created_at=created,
            workflow=workflow or _workflow_name(spec),
            pipeline_spec=spec,
            pipeline_id=pipeline_id,
            pipeline_version_id=pipeline_version_id,
            runtime_config={
                "parameters": parameters,
                "pipeline_root": str(runtime.get("pipeline_root") or ""),
            },
            description=description,
            service_account=service_account,
            pipeline_context_id=self._metadata_id(),
            run_context_id=self._metadata_id(),
            recurring_run_id=recurring_run_id,
            dag=dag,
        )
        run.move_to("PENDING", created)
        experiment.last_run_created_at = created
        self.runs[run.run_id] = run
        self.runner.start(run)
        self.runner.changed()
        return run

    def _metadata_id(self) -> str:
        return str(next(self._metadata_ids))

    def _run_experiment(self, experiment_id: str, context: str) -> Experiment:
        pair = f"{context}: Failed to create a run due to invalid experimentId and namespace "
        pair += "combination"
        if not experiment_id:
            if self.multi_user:
                raise invalid_input("Experiment id can not be empty in multi-user mode").wrap(pair)
            return self.ensure_default_experiment("")
        experiment = self.experiments.get(experiment_id)
        if experiment is None:
            raise not_found("Experiment", experiment_id).wrap(
                f"{pair}: Failed to fetch namespace for experiment {experiment_id}"
            )
        return experiment

    def _run_source(
        self, who: Identity, body: Mapping[str, Any], context: str
    ) -> tuple[dict[str, Any], str, str]:
        reference = _object(body, "pipeline_version_reference") or {}
        version_id = _string(reference, "pipeline_version_id") or _string(
            body, "pipeline_version_id"
        )
        if version_id:
            version = self.versions.get(version_id)
            if version is None:
                raise not_found("PipelineVersion", version_id).wrap(context)
            self._pipeline(who, version.pipeline_id, "get", context)
            return version.pipeline_spec, version.pipeline_id, version_id
        if _string(reference, "pipeline_id"):
            raise invalid_input(
                "Failed to create a run: a pipeline version reference needs pipeline_version_id"
            ).wrap(context)
        spec = _object(body, "pipeline_spec")
        if not spec:
            raise invalid_input(
                "Failed to create a run due to empty pipeline spec and pipeline version "
                "reference. Provide one of them"
            ).wrap(context)
        return spec, "", ""

    def get_run(self, who: Identity, run_id: str) -> dict[str, Any]:
        """GetRun."""
        return self._run(who, run_id, "get", "Failed to get a run").to_api()

    def _run_scope(
        self, who: Identity, namespace: str, experiment_id: str, resource: str, context: str
    ) -> Iterable[Run]:
        namespace = self._namespace(namespace)
        if experiment_id:
            experiment = self.experiments.get(experiment_id)
            if experiment is None:
                raise not_found("Experiment", experiment_id).wrap(
                    f"{context}: Failed to list {resource} due to error fetching namespace for "
                    f"experiment {experiment_id}. Try filtering based on namespace"
                )
            if namespace and namespace != experiment.namespace:
                raise invalid_input(
                    f"Experiment {experiment_id} belongs to namespace "
                    f"'{experiment.namespace}' instead of '{namespace}'"
                ).wrap(f"{context}: Failed to list {resource} due to namespace mismatch")
            namespace = experiment.namespace
        elif self.multi_user and not namespace:
            raise invalid_input(
                f"List{resource.title().replace(' ', '')} must filter by experiment or namespace "
                "in multi-user mode"
            ).wrap(context)
        try:
            self._authorize(who, namespace, "list", "runs")
        except ApiError as error:
            raise error.wrap(
                f"{context}: Failed to list {resource} due to authorization error. Check if you "
                f"have permission to access namespace {namespace}"
            ) from None
        if experiment_id:
            return [r for r in self.runs.values() if r.experiment_id == experiment_id]
        if not self.multi_user:
            return list(self.runs.values())
        return [r for r in self.runs.values() if r.namespace == namespace]

    def list_runs(
        self, who: Identity, namespace: str, experiment_id: str, params: ListParams
    ) -> dict[str, Any]:
        """ListRuns of a namespace or an experiment."""
        context = "Failed to list runs"
        query = params.query(RUNS)
        scope = self._run_scope(who, namespace, experiment_id, "runs", context)
        page = list_page(RUNS, scope, query)
        return message(
            runs=[r.to_api() for r in page.items],
            total_size=page.total_size,
            next_page_token=page.next_page_token,
        )

    # -- recurring runs ------------------------------------------------------------------

    def _authorize_jobs(
        self, who: Identity, namespace: str, verb: str, name: str = "", context: str = ""
    ) -> None:
        if not self.multi_user:
            return
        if not namespace:
            raise invalid_input(
                "a recurring run cannot have an empty namespace in multi-user mode"
            ).wrap(context)
        self._authorize(who, namespace, verb, "jobs", name, context=context)

    def _recurring_run(
        self, who: Identity, recurring_run_id: str, verb: str, context: str
    ) -> RecurringRun:
        job = self.recurring_runs.get(recurring_run_id)
        checked = f"{context}: Failed to authorize the request"
        if job is None:
            missing = not_found("Job", recurring_run_id)
            if self.multi_user:
                raise missing.wrap(f"{checked}: failed to authorize with the recurring run ID")
            raise missing.wrap(context)
        self._authorize_jobs(who, job.namespace, verb, job.display_name, checked)
        return job

    def create_recurring_run(self, who: Identity, body: Mapping[str, Any]) -> dict[str, Any]:
        """CreateRecurringRun: a schedule of runs of a pipeline spec or version."""
        context = "Failed to create a recurring run"
        _reject_unknown(body, RECURRING_RUN_FIELDS)
        converting = f"{context}: Failed to create a recurring run due to conversion error"
        display_name = _string(body, "display_name")
        if not display_name:
            raise ApiError(
                GrpcCode.INTERNAL,
                f"{converting}: Failed to convert a API recurring run to its internal "
                "representation: InvalidInputError: Recurring run's name cannot be empty",
                "Recurring run's name cannot be empty",
            )
        try:
            trigger = trigger_of(body.get("trigger"))
            enabled = enabled_of(body.get("mode"))
            max_concurrency = max_concurrency_of(body.get("max_concurrency"))
        except ApiError as error:
            raise error.wrap(converting) from None
        experiment = self._run_experiment(_string(body, "experiment_id"), context)
        namespace = self._namespace(_string(body, "namespace"))
        if namespace and namespace != experiment.namespace:
            raise invalid_input(
                f"Experiment {experiment.experiment_id} belongs to namespace "
                f"'{experiment.namespace}' instead of '{namespace}'"
            ).wrap(
                f"{context}: Failed to create a recurring run due to invalid experimentId and "
                "namespace combination"
            )
        self._authorize_jobs(
            who,
            experiment.namespace,
            "create",
            display_name,
            f"{context}: Failed to create a recurring run due to authorization error. Check if "
            f"you have write permission to namespace {experiment.namespace}",
        )
        source = self._recurring_source(who, body, context)
        runtime = _object(body, "runtime_config") or {}
        created = now()
        job = RecurringRun(
            recurring_run_id=str(uuid.uuid4()),
            display_name=display_name,
            namespace=experiment.namespace,
            experiment_id=experiment.experiment_id,
            created_at=created,
            updated_at=created,
            k8s_name=swf_name_base(display_name)
            + "".join(random.choices(NAME_SUFFIX_CHARACTERS, k=5)),
            trigger=trigger.json,
            max_concurrency=max_concurrency,
            enabled=enabled,
            no_catchup=bool(body.get("no_catchup")),
            description=_string(body, "description"),
            service_account=_string(body, "service_account") or self.runner_account,
            pipeline_spec=source[0],
            pipeline_id=source[1],
            pipeline_version_id=source[2],
            runtime_config={
                "parameters": runtime.get("parameters") or {},
                "pipeline_root": str(runtime.get("pipeline_root") or ""),
            },
        )
        self.recurring_runs[job.recurring_run_id] = job
        return job.to_api()

    def _recurring_source(
        self, who: Identity, body: Mapping[str, Any], context: str
    ) -> tuple[dict[str, Any] | None, str, str]:
        reference = _object(body, "pipeline_version_reference") or {}
        pipeline_id = _string(reference, "pipeline_id")
        version_id = _string(reference, "pipeline_version_id") or _string(
            body, "pipeline_version_id"
        )
        if version_id or pipeline_id:
            if version_id:
                version = self.versions.get(version_id)
                if version is None:
                    raise not_found("PipelineVersion", version_id).wrap(context)
                pipeline_id = version.pipeline_id
            self._pipeline(who, pipeline_id, "get", context)
            return None, pipeline_id, version_id
        spec = _object(body, "pipeline_spec")
        if not spec:
            raise ApiError(
                GrpcCode.UNKNOWN,
                f"{context}: Cannot create a job with an empty pipeline ID",
                "Cannot create a job with an empty pipeline ID",
            )
        try:
            root_dag(spec)
        except ApiError as error:
            raise error.wrap(
                f"{context}: Failed to create a recurring run with an invalid pipeline spec "
                "manifest"
            ) from None
        return spec, "", ""

    def get_recurring_run(self, who: Identity, recurring_run_id: str) -> dict[str, Any]:
        """GetRecurringRun."""
        context = "Failed to fetch a recurring run"
        return self._recurring_run(who, recurring_run_id, "get", context).to_api()

    def list_recurring_runs(
        self, who: Identity, namespace: str, experiment_id: str, params: ListParams
    ) -> dict[str, Any]:
        """ListRecurringRuns of a namespace or an experiment."""
        context = "Failed to list jobs"
        try:
            query = params.query(RECURRING_RUNS)
        except ApiError as error:
            raise error.wrap(
                "Failed to list recurring runs due to error parsing the listing options"
            ) from None
        namespace = self._namespace(namespace)
        if experiment_id:
            experiment = self.experiments.get(experiment_id)
            if experiment is None:
                raise not_found("Experiment", experiment_id).wrap(
                    f"{context}: Failed to list recurring runs due to error fetching namespace "
                    f"for experiment {experiment_id}. Try filtering based on namespace"
                )
            namespace = experiment.namespace
        self._authorize_jobs(
            who,
            namespace,
            "list",
            context=f"{context}: Failed to list recurring runs due to authorization error. "
            f"Check if you have permission to access namespace {namespace}",
        )
        scope = [
            j
            for j in self.recurring_runs.values()
            if (j.experiment_id == experiment_id if experiment_id else j.namespace == namespace)
        ]
        page = list_page(RECURRING_RUNS, scope, query)
        # The proto names this field recurringRuns, and the server writes proto names.
        return message(
            recurringRuns=[j.to_api() for j in page.items],
            total_size=page.total_size,
            next_page_token=page.next_page_token,
        )

    def set_recurring_run_mode(self, who: Identity, recurring_run_id: str, enabled: bool) -> None:
        """EnableRecurringRun or DisableRecurringRun."""
        verb = "enable" if enabled else "disable"
        job = self._recurring_run(who, recurring_run_id, verb, f"Failed to {verb} a recurring run")
        job.enabled = enabled
        job.updated_at = now()

    def delete_recurring_run(self, who: Identity, recurring_run_id: str) -> None:
        """DeleteRecurringRun (the runs it started stay)."""
        context = "Failed to disable a recurring run"  # sic: the server's wording
        self._recurring_run(who, recurring_run_id, "delete", context)
        del self.recurring_runs[recurring_run_id]

    def trigger_due(self, at: int) -> list[str]:
        """Start the runs whose periodic trigger is due at ``at``; their ids."""
        started = []
        for job in list(self.recurring_runs.values()):
            due = due_at(job, trigger_of(job.trigger), at) if job.enabled else None
            if due is None or at < due:
                continue
            active = [r for r in self.runs.values() if r.recurring_run_id == job.recurring_run_id]
            if sum(1 for r in active if not r.finished) >= job.max_concurrency:
                continue
            run = self._scheduled_run(job)
            if run is not None:
                started.append(run.run_id)
            job.last_triggered = due
        return started

    def _scheduled_run(self, job: RecurringRun) -> Run | None:
        experiment = self.experiments.get(job.experiment_id)
        spec = job.pipeline_spec
        if job.pipeline_version_id in self.versions:
            spec = self.versions[job.pipeline_version_id].pipeline_spec
        elif job.pipeline_id and not job.pipeline_version_id:
            # No version pinned: the ScheduledWorkflow runs the pipeline's latest version.
            versions = [v for v in self.versions.values() if v.pipeline_id == job.pipeline_id]
            spec = max(versions, key=lambda v: v.created_at).pipeline_spec if versions else None
        if experiment is None or not spec:
            return None
        job.runs_made += 1
        name = run_name(job.k8s_name, job.runs_made)
        return self.start_run(
            experiment,
            spec=spec,
            display_name=name,
            workflow=name,
            runtime=job.runtime_config,
            context="Failed to start a scheduled run",
            pipeline_id=job.pipeline_id,
            pipeline_version_id=job.pipeline_version_id,
            service_account=job.service_account,
            recurring_run_id=job.recurring_run_id,
        )

    def start_schedules(self) -> None:
        """Start firing periodic triggers on the running loop (once)."""
        if self._schedules is None or self._schedules.done():
            self._schedules = asyncio.get_running_loop().create_task(self._fire_schedules())

    async def stop_schedules(self) -> None:
        """Stop firing triggers (the server is stopping)."""
        if self._schedules is not None:
            self._schedules.cancel()
            await asyncio.gather(self._schedules, return_exceptions=True)
            self._schedules = None

    async def _fire_schedules(self) -> None:
        while True:
            self.trigger_due(now())
            await asyncio.sleep(SCHEDULE_TICK_SECONDS)

    def archive_run(self, who: Identity, run_id: str, archived: bool) -> None:
        """ArchiveRun or UnarchiveRun."""
        verb = "archive" if archived else "unarchive"
        run = self._run(who, run_id, verb, f"Failed to {verb} a run")
        run.storage_state = "ARCHIVED" if archived else "AVAILABLE"

    def delete_run(self, who: Identity, run_id: str) -> None:
        """DeleteRun (its driver stops; its pods stay, as Argo's garbage collection is lazy)."""
        self._run(who, run_id, "delete", "Failed to delete a run")
        self.runner.forget(run_id)
        del self.runs[run_id]

    def terminate_run(self, who: Identity, run_id: str) -> None:
        """TerminateRun: CANCELING now, CANCELED once its running tasks stopped."""
        context = "Failed to terminate a run"
        run = self._run(who, run_id, "terminate", context)
        if run.finished or run.terminating:
            raise failed_precondition(
                f"Run {run_id} is in state {run.state} and cannot be terminated"
            ).wrap(context)
        self.runner.terminate(run)

    async def retry_run(self, who: Identity, run_id: str) -> None:
        """RetryRun: only a FAILED or CANCELED run; its unfinished tasks run again."""
        context = "Failed to retry a run"
        run = self._run(who, run_id, "retry", context)
        if run.state not in ("FAILED", "CANCELED"):
            raise ApiError(
                GrpcCode.ABORTED,
                f"{context}: BadRequestError: Workflow must be Failed/Error to retry: workflow "
                f"cannot be retried (run {run_id} is {run.state})",
                "Workflow must be Failed/Error to retry",
            )
        await self.runner.retry(run)

    # -- seeding -------------------------------------------------------------------------

    async def seed_runs(
        self,
        *,
        count: int,
        experiment: Experiment,
        spec: dict[str, Any],
        states: tuple[str, ...],
        newest_at: int,
        spacing_seconds: int,
        name_prefix: str,
    ) -> list[str]:
        """Add ``count`` finished runs directly (no pods, no waiting); newest first in time.

        A FAILED or CANCELED one failed in its last task.
        """
        dag = root_dag(spec)
        last = tasks_of(spec)[-1].name
        ids: list[str] = []
        for index in range(count):
            created = newest_at - (count - 1 - index) * spacing_seconds
            state = states[index % len(states)]
            run = Run(
                run_id=str(uuid.uuid4()),
                experiment_id=experiment.experiment_id,
                namespace=experiment.namespace,
                display_name=f"{name_prefix}{index:05d}",
                created_at=created,
                workflow=_workflow_name(spec),
                pipeline_spec=spec,
                pipeline_context_id=self._metadata_id(),
                run_context_id=self._metadata_id(),
                dag=dag,
            )
            run.move_to("PENDING", created)
            failing = last if state != "SUCCEEDED" else ""
            await self.runner.finish_at_once(run, created, _named(failing), state)
            self.runs[run.run_id] = run
            ids.append(run.run_id)
            experiment.last_run_created_at = max(experiment.last_run_created_at, created)
        return ids
