"""Local searches kept on disk, one JSON file each, so `list` and `best` outlive the kernel;
and the names searches take."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from ..errors import BadInput, NotFound
from .models import Tuning

# Katib names trials `<experiment>-<8 characters>` and its suggestion `<experiment>-<algo>`:
# both must stay valid object names (DNS-1123 labels of at most 63 characters).
_NAME = re.compile(r"[a-z]([-a-z0-9]{0,38}[a-z0-9])?")


def check_name(name: str) -> str:
    """`name` if it can name a search here and on Katib; `BadInput` saying why not."""
    if not _NAME.fullmatch(name):
        raise BadInput(
            f"{name!r} cannot name a search: use lowercase letters, digits and '-', starting "
            "with a letter, at most 40 characters"
        )
    return name


def new_name(component: str) -> str:
    """A fresh name made of the component's: `train-model-3f9a1`."""
    base = re.sub(r"[^a-z0-9]+", "-", component.lower()).strip("-") or "search"
    if not base[0].isalpha():
        base = f"t-{base}"
    return f"{base[:33].rstrip('-')}-{secrets.token_hex(3)[:5]}"


class TuningStore:
    """Searches run on this machine, under `root` (the workspace's `.mlops/tuning`)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, name: str) -> Path:
        return self.root / f"{check_name(name)}.json"

    def save(self, tuning: Tuning) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.path(tuning.name)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(tuning.model_dump_json(indent=1), encoding="utf-8")
        os.replace(tmp, path)

    def load(self, name: str) -> Tuning:
        path = self.path(name)
        if not path.is_file():
            raise NotFound(f"no local search named {name!r} in {self.root}")
        return Tuning.model_validate_json(path.read_text(encoding="utf-8"))

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def all(self) -> list[Tuning]:
        """Every local search, newest first."""
        if not self.root.is_dir():
            return []
        found = [
            Tuning.model_validate_json(p.read_text(encoding="utf-8"))
            for p in self.root.glob("*.json")
        ]
        return sorted(
            found, key=lambda t: t.created_at.timestamp() if t.created_at else 0.0, reverse=True
        )


__all__ = ["TuningStore", "check_name", "new_name"]
