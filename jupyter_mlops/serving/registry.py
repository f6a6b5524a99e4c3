"""The MLflow side of serving: a registered version resolved to what KServe and the local server
read, the training dataset of the run that logged it, and drift recorded as a run beside it."""

from __future__ import annotations

import json
import re
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from ..errors import BadInput, MLOpsError, NotFound
from .models import Column, DriftReport, ModelRef

if TYPE_CHECKING:
    from ..tracking import Tracking

#: Versions are numbers; MLflow refuses aliases that look like one.
_DIGITS = re.compile(r"[0-9]+")
_MODEL_ID = re.compile(r"models:/(m-[0-9a-f]+)$")
_PROXIED = "/api/2.0/mlflow-artifacts/artifacts/"
_METRIC_KEY = re.compile(r"[^0-9A-Za-z_\-. /]")
#: Tags this product puts on the runs and model versions it records.
TAG = "jupyter-mlops"


def parse_reference(text: str) -> tuple[str, str | None]:
    """(model, version or alias) from `name@alias`, `name@3`, `name/3`, `models:/name@alias`."""
    ref = text.strip().removeprefix("models:/")
    if "@" in ref:
        model, _, which = ref.rpartition("@")
    elif "/" in ref:
        model, _, which = ref.rpartition("/")
    else:
        model, which = ref, ""
    if not model or (("@" in text or "/" in ref) and not which):
        raise BadInput(f"{text!r} names no model version: use NAME@ALIAS or NAME/VERSION")
    return model, which or None


def storage_uri(download_uri: str, destination: str | None) -> str | None:
    """Where KServe's storage initializer finds the model, ending in "/" (without the slash it
    takes the last part for a file name); None for an `mlflow-artifacts:` address when the
    tracking server's artifact store is not known (`c.MLOpsConfig.mlflow_artifacts_destination`).
    """
    parsed = urlparse(download_uri)
    relative: str | None = None
    if parsed.scheme == "mlflow-artifacts":
        relative = parsed.path
    elif parsed.scheme in ("http", "https") and _PROXIED in parsed.path:
        relative = parsed.path.split(_PROXIED, 1)[1]
    if relative is None:
        uri = download_uri
    elif not destination:
        return None
    else:
        uri = f"{destination.rstrip('/')}/{relative.lstrip('/')}"
    return uri if uri.endswith("/") else uri + "/"


def resolve(tracking: Tracking, model: str, version_or_alias: str | None) -> ModelRef:
    """The version (`"3"`), the alias's version (`"champion"`), or the newest version."""
    if not model:
        raise BadInput("name the registered model")
    which = (version_or_alias or "").strip()
    with tracking._calling(f"no registered model named {model!r}") as client:
        registered = client.get_registered_model(model)
    if not which:
        found = _newest(tracking, model)
    elif _DIGITS.fullmatch(which):
        with tracking._calling(f"model {model!r} has no version {which}") as client:
            found = client.get_model_version(model, which)
    elif which not in (registered.aliases or {}):
        # MLflow calls a missing alias a bad parameter; to the user it is not there.
        known = ", ".join(sorted(registered.aliases or {})) or "none"
        raise NotFound(f"model {model!r} has no alias {which!r} (its aliases: {known})")
    else:
        with tracking._calling(f"model {model!r} has no alias {which!r}") as client:
            found = client.get_model_version_by_alias(model, which)
    version = str(found.version)
    with tracking._calling(f"model {model!r} has no version {version}") as client:
        download = str(client.get_model_version_download_uri(model, version))
    mlmodel, requirements = _model_files(tracking, download, f"{model} v{version}")
    source = str(found.source or "")
    matched = _MODEL_ID.match(source)
    model_id = getattr(found, "model_id", None) or (matched.group(1) if matched else None)
    return ModelRef(
        name=model,
        version=version,
        alias=which if which and not _DIGITS.fullmatch(which) else None,
        run_id=found.run_id or None,
        model_id=model_id,
        source=source,
        download_uri=download,
        storage_uri=storage_uri(download, tracking.settings.artifacts_destination),
        flavors=tuple(sorted((mlmodel.get("flavors") or {}).keys())),
        mlflow_version=str(mlmodel["mlflow_version"]) if mlmodel.get("mlflow_version") else None,
        requirements=requirements,
        inputs=_signature_inputs(mlmodel),
    )


def _newest(tracking: Tracking, model: str) -> Any:
    with tracking._calling(f"no registered model named {model!r}") as client:
        # MLflow's filter syntax has no escapes: quote with the mark the name does not hold.
        quote = '"' if "'" in model else "'"
        page = client.search_model_versions(
            filter_string=f"name = {quote}{model}{quote}",
            max_results=1,
            order_by=["version_number DESC"],
        )
    if not page:
        raise NotFound(f"model {model!r} has no versions in {tracking.where}")
    return page[0]


def _model_files(
    tracking: Tracking, download_uri: str, label: str
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The version's MLmodel file (parsed) and its requirements.txt lines, downloaded alone."""
    import yaml
    from mlflow.artifacts import download_artifacts

    folder = tempfile.mkdtemp(prefix="jupyter-mlops-model-")
    base = download_uri.rstrip("/")
    with tracking._calling(f"{label} has no MLmodel file at {download_uri}"):
        path = download_artifacts(
            artifact_uri=f"{base}/MLmodel", dst_path=folder, tracking_uri=tracking.uri
        )
    mlmodel = yaml.safe_load(Path(path).read_text()) or {}
    requirements: tuple[str, ...] = ()
    try:
        with tracking._calling():
            listed = download_artifacts(
                artifact_uri=f"{base}/requirements.txt", dst_path=folder, tracking_uri=tracking.uri
            )
    except MLOpsError:
        listed = None  # a model may be logged without one
    if listed is not None:
        lines = (line.strip() for line in Path(listed).read_text().splitlines())
        requirements = tuple(line for line in lines if line and not line.startswith("#"))
    return (mlmodel if isinstance(mlmodel, dict) else {}), requirements


def _signature_inputs(mlmodel: dict[str, Any]) -> tuple[Column, ...]:
    text = (mlmodel.get("signature") or {}).get("inputs")
    try:
        specs = json.loads(text) if isinstance(text, str) else []
    except ValueError:
        return ()
    return tuple(
        Column(name=str(s.get("name")), type=str(s.get("type") or s.get("tensor-spec") or ""))
        for s in specs
        if isinstance(s, dict) and s.get("name")
    )


def download(tracking: Tracking, ref: ModelRef, folder: Path) -> Path:
    """The whole model, downloaded into `folder` (made if missing); the local model folder."""
    from mlflow.artifacts import download_artifacts

    folder.mkdir(parents=True, exist_ok=True)
    with tracking._calling(f"the files of {ref.label} at {ref.download_uri}"):
        local = download_artifacts(
            artifact_uri=ref.download_uri, dst_path=str(folder), tracking_uri=tracking.uri
        )
    return Path(local)


# -- the training dataset ------------------------------------------------------------------


def training_run(tracking: Tracking, ref: ModelRef) -> Any:
    """The run that logged the model version (MLflow 3 keeps it on the logged model too)."""
    run_id = ref.run_id
    if run_id is None and ref.model_id is not None:
        with tracking._calling(f"no logged model {ref.model_id!r}") as client:
            run_id = client.get_logged_model(ref.model_id).source_run_id
    if not run_id:
        raise NotFound(f"{ref.label} was not logged by a run, so no training dataset is known")
    with tracking._calling(f"no run {run_id!r} (the run that logged {ref.label})") as client:
        return client.get_run(run_id)


def training_data(tracking: Tracking, ref: ModelRef) -> tuple[Any, str]:
    """The DataFrame of the training dataset logged on the model's run (`mlflow.data`, context
    'training' first), and its name."""
    run = training_run(tracking, ref)
    inputs = list(run.inputs.dataset_inputs or [])
    if not inputs:
        raise NotFound(
            f"the run {run.info.run_id} that logged {ref.label} logged no dataset: log the "
            "training data with mlflow.log_input(mlflow.data.from_pandas(df, "
            "source='s3://…/train.parquet'), context='training')"
        )
    chosen = next((i for i in inputs if _context(i) == "training"), inputs[0])
    dataset = chosen.dataset
    if dataset.source_type == "code":
        raise BadInput(
            f"the training dataset {dataset.name!r} of {ref.label} was logged from memory, so it "
            "cannot be read back: log it with a file source, e.g. "
            "mlflow.data.from_pandas(df, source='s3://…/train.parquet')"
        )
    from mlflow.data import get_source

    with tracking._calling(f"the training dataset {dataset.name!r} at {dataset.source}"):
        path = Path(get_source(chosen).load())
    return _read_table(path, str(dataset.name)), str(dataset.name)


def _context(dataset_input: Any) -> str:
    tags = {t.key: t.value for t in dataset_input.tags or []}
    return str(tags.get("mlflow.data.context", ""))


def _read_table(path: Path, name: str) -> Any:
    import pandas as pd  # type: ignore[import-untyped]

    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    frames = [_read_file(pd, p) for p in files]
    frames = [f for f in frames if f is not None]
    if not frames:
        raise BadInput(f"the training dataset {name!r} at {path} holds no CSV, Parquet or JSON")
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _read_file(pd: Any, path: Path) -> Any:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if suffix in (".csv", ".txt"):
        return pd.read_csv(path)
    if suffix in (".json", ".jsonl"):
        return pd.read_json(path, lines=suffix == ".jsonl")
    return None


# -- recording drift -----------------------------------------------------------------------


def record_drift(tracking: Tracking, ref: ModelRef, report: DriftReport) -> tuple[str, str]:
    """A finished run in the training run's experiment holding the drift metrics, linked to the
    logged model (as an input) and to the model version (tags both ways); (run id, experiment).
    """
    from mlflow.entities import LoggedModelInput, Metric, Param

    experiment_id = str(training_run(tracking, ref).info.experiment_id)
    now = int(time.time() * 1000)
    metrics = [Metric("drifted_features", float(len(report.drifted)), now, 0, ref.model_id)]
    for f in report.features:
        key = _METRIC_KEY.sub("_", f.feature)
        metrics.append(Metric(f"psi.{key}", f.psi, now, 0, ref.model_id))
        if f.ks is not None:
            metrics.append(Metric(f"ks.{key}", f.ks, now, 0, ref.model_id))
    params = [
        Param("psi_threshold", str(report.psi_threshold)),
        Param("ks_threshold", str(report.ks_threshold)),
        Param("reference_rows", str(report.reference_rows)),
        Param("current_rows", str(report.current_rows)),
        Param("dataset", report.dataset),
    ]
    tags = {
        f"{TAG}.kind": "drift",
        f"{TAG}.service": report.name,
        f"{TAG}.model_name": ref.name,
        f"{TAG}.model_version": ref.version,
        f"{TAG}.drifted": ",".join(report.drifted),
        "mlflow.source.type": "LOCAL",
    }
    if ref.run_id:
        tags[f"{TAG}.training_run"] = ref.run_id
    with tracking.writer() as client:
        run = client.create_run(experiment_id, run_name=f"drift-{report.name}", tags=tags)
        run_id = str(run.info.run_id)
        client.log_batch(run_id, metrics=metrics, params=params)
        if ref.model_id:
            client.log_inputs(run_id, models=[LoggedModelInput(ref.model_id)])
        client.log_dict(run_id, report.to_json(), "drift/report.json")
        client.set_model_version_tag(ref.name, ref.version, f"{TAG}.last_drift_run", run_id)
        client.set_terminated(run_id, "FINISHED")
    return run_id, experiment_id
