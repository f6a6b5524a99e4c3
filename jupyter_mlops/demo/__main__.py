"""`python -m jupyter_mlops.demo`: prepare the demo workspace and start JupyterLab on it."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

NOTEBOOK = Path(__file__).with_name("demo.ipynb")


def prepare(workspace: Path) -> Path:
    """Copy the demo notebook into `workspace`, never overwriting the user's edits."""
    workspace.mkdir(parents=True, exist_ok=True)
    target = workspace / NOTEBOOK.name
    if not target.exists():
        shutil.copyfile(NOTEBOOK, target)
    return target


def lab_command(workspace: Path, notebook: Path, extra: list[str]) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={workspace}",
        f"--LabApp.default_url=/lab/tree/{notebook.name}",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    return command + extra


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--workspace",
        type=Path,
        default=Path("demo-workspace"),
        help="folder for the demo notebook and local state (default: ./demo-workspace)",
    )
    parser.add_argument(
        "--prepare-only", action="store_true", help="prepare the workspace, start nothing"
    )
    args, extra = parser.parse_known_args(argv)
    workspace = args.workspace.resolve()
    notebook = prepare(workspace)
    if args.prepare_only:
        print(workspace)
        return
    os.execv(sys.executable, lab_command(workspace, notebook, extra))


if __name__ == "__main__":
    main()
