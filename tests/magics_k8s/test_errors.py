"""Mistakes and refusals reach the user as one plain message, never a traceback."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from tests.kube.helpers import unreachable_kubeconfig
from tests.plane import ProfileNamespace

from .conftest import Notebook


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("", r"usage: %k8s \{get,describe,logs,events,delete,scale\} \.\.\.; see %k8s\?"),
        ("list pods", r"invalid choice: 'list'"),
        ("get", r"usage: %k8s get KIND \[NAME\]"),
        ("get pods a b", r"usage: %k8s get KIND \[NAME\]"),
        ("logs", r"usage: %k8s logs POD"),
        ("events pods", r"usage: %k8s events"),
        ("get pods --replicas 3", r"--replicas cannot be used with %k8s get"),
        ("describe pod x -f", r"--follow cannot be used with %k8s describe"),
        ("get pods -o table", r"invalid choice: 'table'"),
        ("logs x --tail many", r"invalid int value: 'many'"),
        ("get pods -n Not_A_Namespace", r"'Not_A_Namespace' is not a namespace name"),
        ("describe pod x/log", r"'x/log' is not a kind or object name"),
        ("get pods -l 'app=web", r"cannot read the arguments: No closing quotation"),
        ("get gizmos", r"unknown kind 'gizmos'; known kinds: pods, deployments"),
        ("get pod x -A", r"-A and -l select many objects"),
    ],
)
def test_bad_arguments_are_usage_errors(notebook: Notebook, line: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        notebook.k8s(line)


def test_a_missing_object_is_named(notebook: Notebook) -> None:
    with pytest.raises(UsageError, match=r'^pods "trainer-9" not found$'):
        notebook.k8s("describe pod trainer-9")
    with pytest.raises(UsageError, match=r'^deployments.apps "web" not found$'):
        notebook.k8s("scale deploy web --replicas 2")


def test_a_refusal_names_the_missing_permission(
    notebook: Notebook, profile: ProfileNamespace
) -> None:
    notebook.use_kubeconfig(profile.kubeconfig)  # a Kubeflow editor: its own namespace only

    with pytest.raises(UsageError) as refused:
        notebook.k8s("get nodes")

    message = str(refused.value)
    assert message.startswith("not allowed to list nodes (cluster-wide)")
    assert "It needs a ClusterRole with apiGroups: [''], resources: ['nodes'], verbs: ['list']" in (
        message
    )
    # The API server's own words, naming the editor's real identity.
    assert f"system:serviceaccount:{profile.name}:default-editor" in message


def test_the_editor_still_lists_its_own_namespace(
    notebook: Notebook, profile: ProfileNamespace
) -> None:
    notebook.use_kubeconfig(profile.kubeconfig)

    assert len(notebook.k8s("get pods")) == 0
    with pytest.raises(UsageError, match=r"not allowed to list pods in namespace 'default'"):
        notebook.k8s("get pods -n default")


def test_a_bad_duration_is_explained(notebook: Notebook) -> None:
    with pytest.raises(UsageError, match=r"bad duration '5 minutes': use seconds or forms like"):
        notebook.k8s("logs trainer-0 --since '5 minutes'")


def test_no_cluster_configured_says_how_to_connect(notebook: Notebook) -> None:
    notebook.config("cluster = 'none'")

    with pytest.raises(UsageError, match=r"No cluster is configured.*MLOpsConfig.kubeconfig"):
        notebook.k8s("get pods")


def test_an_unreachable_cluster_is_a_message(notebook: Notebook) -> None:
    notebook.use_kubeconfig(unreachable_kubeconfig(notebook.ns))

    with pytest.raises(UsageError, match=r"cannot reach the Kubernetes API at https://127.0.0.1"):
        notebook.k8s("get pods")


def test_a_usage_error_shows_no_traceback(
    notebook: Notebook, capsys: pytest.CaptureFixture[str]
) -> None:
    result = notebook.shell.run_cell("%k8s describe pod nowhere", store_history=False)

    shown = capsys.readouterr()
    assert isinstance(result.error_in_exec, UsageError)
    assert 'pods "nowhere" not found' in shown.err + shown.out
    assert "Traceback" not in shown.err + shown.out


def test_help_lists_every_command_and_option(notebook: Notebook) -> None:
    help_text = notebook.shell.find_line_magic("k8s").__doc__ or ""

    for word in ("get", "describe", "logs", "events", "delete", "scale"):
        assert f"%k8s {word}" in help_text
    for option in ("--namespace", "--all-namespaces", "--selector", "--output", "--container"):
        assert option in help_text
    for option in ("--follow", "--tail", "--since", "--previous", "--warnings", "--replicas"):
        assert option in help_text


def test_the_connection_is_made_once_and_again_after_config_changes(notebook: Notebook) -> None:
    magics = notebook.shell.magics_manager.registry["K8sMagics"]
    notebook.k8s("get pods")
    first = magics.cluster()
    notebook.k8s("events")

    assert magics.cluster() is first
    notebook.config("namespace = 'other'")
    assert magics.cluster() is not first
    assert magics.cluster().namespace == "other" != notebook.ns.name
