"""Loading the server extension must import neither kfp, kubernetes, mlflow nor the pydantic
models (they cost JupyterLab's start); `%load_ext` must import none of the backend libraries."""

from __future__ import annotations

import subprocess
import sys
import textwrap

HEAVY = ("kfp", "kubernetes", "mlflow", "pydantic")


def imported_after(code: str) -> set[str]:
    """Run `code` in a fresh interpreter and return which heavy packages it imported."""
    probe = textwrap.dedent(code) + textwrap.dedent(
        f"""
        import sys
        print(",".join(m for m in {HEAVY!r} if m in sys.modules))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    return set(filter(None, last.split(",")))


def test_the_server_extension_loads_without_backend_libraries(tmp_path: object) -> None:
    loaded = imported_after(
        f"""
        from jupyter_server.serverapp import ServerApp
        app = ServerApp(jpserver_extensions={{"jupyter_mlops": True}}, root_dir={str(tmp_path)!r})
        app.initialize(argv=["--port=0", "--ServerApp.open_browser=False"])
        assert "mlops" in app.web_app.settings, "the extension did not load"
        """
    )
    assert loaded == set()


def test_load_ext_registers_magics_without_backend_libraries() -> None:
    loaded = imported_after(
        """
        from IPython.core.interactiveshell import InteractiveShell
        shell = InteractiveShell.instance()
        shell.run_line_magic("load_ext", "jupyter_mlops")
        assert "mlops" in shell.magics_manager.magics["line"]
        """
    )
    # The magics' argument models may use pydantic; the backend libraries wait for a command.
    assert loaded <= {"pydantic"}


def test_the_probe_does_see_a_heavy_import() -> None:
    """The check itself can fail: importing kfp is noticed."""
    assert imported_after("import kfp") >= {"kfp"}


def test_the_kube_package_names_its_api_without_importing_it() -> None:
    assert imported_after("from jupyter_mlops import kube") == set()
    assert imported_after("import jupyter_mlops; jupyter_mlops.connect()") == set()
    loaded = imported_after(
        """
        from jupyter_mlops import kube
        assert kube.Cluster.__name__ == "Cluster" and callable(kube.diagnose)
        """
    )
    assert "pydantic" in loaded  # the doctor's findings are pydantic models: named, then loaded
