"""`%load_ext jupyter_mlops` and `%mlops` in a real IPython shell."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from jupyter_mlops.checks import StatusReport


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    monkeypatch.chdir(tmp_path)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "jupyter_mlops")
    yield shell
    shell.run_line_magic("unload_ext", "jupyter_mlops")
    InteractiveShell.clear_instance()


def test_mlops_status_shows_what_the_api_reports(shell: InteractiveShell, tmp_path: Path) -> None:
    report = shell.run_line_magic("mlops", "status")
    assert isinstance(report, StatusReport)
    assert report.cluster.mode == "none"
    assert report.pipelines.endpoint == str(tmp_path / ".mlops" / "pipelines")
    assert "Cluster" in str(report) and "not reachable" in str(report)


def test_config_magic_settings_apply_to_the_status(shell: InteractiveShell) -> None:
    shell.run_line_magic("config", "MLOpsConfig.namespace = 'team-a'")
    shell.run_line_magic("config", "MLOpsConfig.read_only = True")
    report = shell.run_line_magic("mlops", "status")
    assert (report.identity.namespace, report.identity.source) == ("team-a", "config")
    assert report.read_only


def test_a_bad_setting_is_a_usage_error_naming_it(shell: InteractiveShell) -> None:
    shell.run_line_magic("config", "MLOpsConfig.cluster = 'sometimes'")
    with pytest.raises(UsageError, match=r"c\.MLOpsConfig: .*'cluster' trait"):
        shell.run_line_magic("mlops", "status")


def test_an_unknown_command_shows_the_choices(shell: InteractiveShell) -> None:
    with pytest.raises(UsageError, match="invalid choice: 'stauts'"):
        shell.run_line_magic("mlops", "stauts")


def test_a_usage_error_reaches_the_user_without_a_traceback(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    result = shell.run_cell("%mlops", store_history=False)
    shown = capsys.readouterr()
    assert isinstance(result.error_in_exec, UsageError)
    assert "UsageError" in shown.err + shown.out
    assert "Traceback" not in shown.err + shown.out


def test_magic_help_names_line_and_cell_magics_as_they_are_typed() -> None:
    from jupyter_mlops.magics.kfp import KfpMagics
    from jupyter_mlops.magics.mlflow import MlflowMagics

    kfp_help, mlflow_help = KfpMagics.kfp.__doc__ or "", MlflowMagics.mlflow.__doc__ or ""
    assert "  %kfp run [--local | --cluster]" in kfp_help
    assert "%%kfp run" not in kfp_help and "%%mlflow" not in mlflow_help
    assert "defined with %%kfp_pipeline" in kfp_help
