"""Importing the serving API and the `%kserve` magics costs none of the libraries they use."""

from __future__ import annotations

import subprocess
import sys
import textwrap

HEAVY = ("mlflow", "kubernetes", "pandas", "numpy", "scipy", "sklearn", "pydantic")


def imported_after(code: str) -> set[str]:
    """Which heavy packages a fresh interpreter has imported after running `code`."""
    probe = textwrap.dedent(code) + textwrap.dedent(
        f"""
        import sys
        print(",".join(m for m in {HEAVY!r} if m in sys.modules))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    lines = done.stdout.strip().splitlines()
    return set(filter(None, lines[-1].split(","))) if lines else set()


def test_the_serving_api_and_magics_import_light() -> None:
    loaded = imported_after(
        """
        from jupyter_mlops import serving
        from jupyter_mlops.magics.kserve import KServeMagics
        from IPython.core.interactiveshell import InteractiveShell
        InteractiveShell.instance().register_magics(KServeMagics)
        assert callable(serving.serve) and callable(serving.list)
        """
    )
    assert loaded == set()


def test_the_probe_sees_a_heavy_import() -> None:
    assert "pandas" in imported_after("import pandas")
