"""Fixtures for the KFP emulator tests: a running emulator, a kfp.Client, a compiled pipeline."""

from collections.abc import Iterator
from pathlib import Path

import kfp
import pytest

from jupyter_mlops.testing.kfp import DEFAULT_NAMESPACE, KfpEmulator
from tests.kfp_pipelines import compiled, three_step_pipeline

TOKEN = "kfp-test-token"
OTHER_NAMESPACE = "kubeflow-user-other-com"


@pytest.fixture(scope="session")
def pipeline_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The three-step pipeline compiled by kfp's own compiler to IR YAML."""
    return compiled(three_step_pipeline, tmp_path_factory.mktemp("pipelines"))


@pytest.fixture
def kfp_emulator() -> Iterator[KfpEmulator]:
    """A multi-user emulator with a bearer token, two profile namespaces and fast steps."""
    with KfpEmulator(
        token=TOKEN,
        namespaces=(DEFAULT_NAMESPACE, OTHER_NAMESPACE),
        step_seconds=0.05,
    ) as emulator:
        yield emulator


@pytest.fixture
def client(kfp_emulator: KfpEmulator) -> kfp.Client:
    """The unmodified kfp.Client, as a notebook user in the default profile would make it."""
    return kfp.Client(host=kfp_emulator.url, existing_token=TOKEN, namespace=DEFAULT_NAMESPACE)


@pytest.fixture
def token() -> str:
    """The bearer token the emulator accepts for the default user."""
    return TOKEN


@pytest.fixture
def other_namespace() -> str:
    """A second profile namespace the emulator knows."""
    return OTHER_NAMESPACE
