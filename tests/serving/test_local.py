"""Local serving for real: a registered MLflow 3 model version served on loopback over the v2
protocol, its predictions, drift against its logged training dataset, recorded in MLflow."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests
from mlflow import MlflowClient

from jupyter_mlops.errors import BadInput, NotFound, ReadOnly
from jupyter_mlops.serving import Serving
from jupyter_mlops.serving.drift import PSI_THRESHOLD

from .conftest import FEATURES, SHIFTED, Registered, serving_for, settings_for


def test_served_locally_the_model_answers_as_it_does_itself(
    serving: Serving, registered: Registered
) -> None:
    service = serving.serve(registered.name, "champion", mode="local")
    assert service is not None and service.ready and service.mode == "local"
    assert (service.model, service.version, service.alias) == (
        registered.name,
        registered.version,
        "champion",
    )
    expected = registered.model.predict(registered.test)

    frame = serving.predict(service.name, registered.test)
    assert frame.data.tolist() == expected.tolist()
    assert frame.latency_ms > 0
    assert frame.response["outputs"][0]["shape"] == [len(registered.test), 1]
    # What a route would send: JSON, with the v2 answer as it came.
    sent = json.loads(json.dumps(frame.to_json()))
    assert sent["response"] == frame.response and sent["latency_ms"] == frame.latency_ms

    # An array and a dict of columns reach the same model through the same protocol.
    array = serving.predict(service.name, registered.test.to_numpy())
    columns = serving.predict(
        service.name, {f: registered.test[f].to_numpy() for f in registered.test.columns}
    )
    assert array.data.tolist() == expected.tolist()
    assert columns.data.tolist() == expected.tolist()


def test_the_local_server_speaks_the_v2_protocol(serving: Serving, registered: Registered) -> None:
    service = serving.serve(registered.name, registered.version, mode="local", name="speaks-v2")
    assert service is not None and service.url is not None
    base = f"{service.url}/v2"
    assert requests.get(f"{base}/health/ready", timeout=5).json() == {"ready": True}
    metadata = serving.metadata("speaks-v2")
    assert metadata == requests.get(f"{base}/models/speaks-v2", timeout=5).json()
    assert [i["name"] for i in metadata["inputs"]] == list(FEATURES)
    assert metadata["versions"] == [registered.version]
    assert {i["name"]: i["datatype"] for i in metadata["inputs"]}["plan"] == "BYTES"
    assert requests.get(f"{base}/models/another/ready", timeout=5).status_code == 404

    # A request without one of the model's columns is the caller's mistake, said as such.
    short = registered.test.drop(columns=["calls"])
    with pytest.raises(BadInput, match="calls"):
        serving.predict("speaks-v2", short)


def test_drift_flags_the_shifted_feature_and_records_a_run(
    serving: Serving, registered: Registered
) -> None:
    service = serving.serve(registered.name, "champion", mode="local", name="drifting")
    assert service is not None

    report = serving.drift("drifting", registered.shifted())

    assert report.drifted == (SHIFTED,)
    by_name = {f.feature: f for f in report.features}
    assert set(by_name) == set(FEATURES)
    assert by_name[SHIFTED].psi > PSI_THRESHOLD and by_name[SHIFTED].ks is not None
    assert (report.reference_rows, report.current_rows) == (
        len(registered.train),
        len(registered.test),
    )
    assert {h.feature for h in report.plot} == set(FEATURES)
    assert json.loads(json.dumps(report.to_json()))["drifted"] == [SHIFTED]
    for plot in report.plot:
        assert sum(plot.reference) == pytest.approx(1.0)
        assert sum(plot.current) == pytest.approx(1.0)

    client = MlflowClient(registered.url)
    run = client.get_run(report.run_id)
    assert run.info.experiment_id == registered.experiment_id
    assert run.data.tags["jupyter-mlops.model_version"] == registered.version
    assert run.data.tags["jupyter-mlops.drifted"] == SHIFTED
    assert run.data.metrics[f"psi.{SHIFTED}"] == pytest.approx(by_name[SHIFTED].psi)
    version = client.get_model_version(registered.name, registered.version)
    assert version.tags["jupyter-mlops.last_drift_run"] == report.run_id
    model_id = version.source.removeprefix("models:/")
    assert [m.model_id for m in run.inputs.model_inputs] == [model_id]
    assert [a.path for a in client.list_artifacts(report.run_id, "drift")] == ["drift/report.json"]


def test_drift_of_what_predict_sent(serving: Serving, registered: Registered) -> None:
    serving.serve(registered.name, "champion", mode="local", name="watched")
    half = len(registered.test) // 2
    serving.predict("watched", registered.test.iloc[:half])
    serving.predict("watched", registered.test.iloc[half:].to_numpy())

    report = serving.drift("watched", record=False)

    # What was sent, a DataFrame and then an array, is compared whole, as one DataFrame is.
    whole = serving.drift("watched", registered.test, record=False)
    assert report.current_rows == len(registered.test)
    assert report.features == whole.features
    assert report.drifted == ()
    assert report.run_id is None


def test_the_mlflow_artifacts_address_becomes_the_store_kserve_reads(
    registered: Registered, tmp_path: Path
) -> None:
    settings = settings_for(
        registered, tmp_path, mlflow_artifacts_destination=registered.artifacts_dir.as_uri()
    )
    with serving_for(settings) as serving:
        ref = serving.model(registered.name, "champion")
    assert ref.download_uri.startswith("mlflow-artifacts:/")
    assert ref.storage_uri is not None and ref.storage_uri.endswith("/")
    # The translated address is where the tracking server really keeps the model's files.
    assert ref.storage_uri.startswith(registered.artifacts_dir.as_uri() + "/")
    assert (Path(urlparse(ref.storage_uri).path) / "MLmodel").is_file()
    assert "python_function" in ref.flavors and "sklearn" in ref.flavors
    assert [c.name for c in ref.inputs] == list(FEATURES)


def test_versions_by_number_alias_or_newest(serving: Serving, registered: Registered) -> None:
    assert serving.model(registered.name, registered.version).version == registered.version
    assert serving.model(registered.name).version == registered.version
    champion = serving.model(registered.name, "champion")
    assert (champion.version, champion.alias) == (registered.version, "champion")
    with pytest.raises(NotFound, match="no alias 'nonexistent'"):
        serving.model(registered.name, "nonexistent")
    with pytest.raises(NotFound, match="no registered model"):
        serving.model(f"{registered.name}-missing", "champion")


def test_delete_stops_the_server(serving: Serving, registered: Registered) -> None:
    service = serving.serve(registered.name, "champion", mode="local", name="short-lived")
    assert service is not None
    pid = serving.local.get("short-lived").pid  # type: ignore[union-attr]
    assert [s.name for s in serving.list().services] == ["short-lived"]

    gone = serving.delete("short-lived")

    assert gone.reason == "stopped"
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert serving.list().services == ()
    with pytest.raises(NotFound, match="short-lived"):
        serving.predict("short-lived", registered.test)


def test_read_only_refuses_serving_deleting_and_recording(
    serving: Serving, registered: Registered
) -> None:
    serving.serve(registered.name, "champion", mode="local", name="guarded")
    # Another kernel of the same workspace, configured read-only.
    reader = Serving(settings_for(registered, serving.settings.workspace, read_only=True))
    try:
        with pytest.raises(ReadOnly, match="serving models locally"):
            reader.serve(registered.name, "champion", mode="local", name="another")
        with pytest.raises(ReadOnly, match="deleting served models"):
            reader.delete("guarded")
        with pytest.raises(ReadOnly, match="recording drift"):
            reader.drift("guarded", registered.shifted())
        # Reading stays allowed: predictions, and drift that is not recorded.
        assert reader.predict("guarded", registered.test).data.tolist() == (
            registered.model.predict(registered.test).tolist()
        )
        assert reader.drift("guarded", registered.shifted(), record=False).drifted == (SHIFTED,)
    finally:
        reader.close()
    assert [s.name for s in serving.list().services] == ["guarded"]


def test_a_dataset_logged_from_memory_is_said_to_be_unreadable(
    serving: Serving, registered: Registered
) -> None:
    """`mlflow.data.from_pandas(df)` without a source keeps no data to read back."""
    import warnings

    import mlflow

    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(registered.url)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with mlflow.start_run(experiment_id=registered.experiment_id):
                mlflow.log_input(mlflow.data.from_pandas(registered.train), context="training")
                mlflow.sklearn.log_model(
                    registered.model, name="model", registered_model_name=f"{registered.name}-mem"
                )
    finally:
        mlflow.set_tracking_uri(previous)
    serving.serve(f"{registered.name}-mem", "1", mode="local", name="in-memory")

    with pytest.raises(BadInput, match="logged from memory, so it cannot be read back"):
        serving.drift("in-memory", registered.shifted(), record=False)
