"""Reading a run's task details as the Argo nodes they are, for the tests.

A detail names its node only by display name; its children come as Argo node ids, which are
the workflow's name and the FNV-1a hash of the child's node name. So a test names the nodes
it expects (``<workflow>.root.<task>.executor``) and finds the detail whose children hold one.
"""

from collections import Counter
from typing import Any


def fnv1a_32(text: str) -> int:
    """FNV-1a, 32 bits (the hash Argo's ``Workflow.NodeID`` uses)."""
    value = 2166136261
    for byte in text.encode():
        value ^= byte
        value = (value * 16777619) % 2**32
    return value


def argo_id(workflow: str, name: str) -> str:
    return workflow if name == workflow else f"{workflow}-{fnv1a_32(name)}"


class Details:
    """The task details of one run, found by the nodes they list as children."""

    def __init__(self, run: Any) -> None:
        self.entries = list(run.run_details.task_details or [])
        self.workflow = next(
            e.display_name
            for e in self.entries
            if argo_id(e.display_name, f"{e.display_name}.root-driver") in self.child_ids(e)
        )

    @staticmethod
    def child_ids(entry: Any) -> list[str]:
        return [c.pod_name for c in entry.child_tasks or []]

    def id(self, name: str) -> str:
        return argo_id(self.workflow, name)

    def names(self) -> Counter[str]:
        """How many details carry each display name."""
        return Counter(e.display_name for e in self.entries)

    def listing_all(self, display: str, child: str) -> list[Any]:
        """The details named ``display`` whose children hold the node ``child``."""
        wanted = self.id(child)
        return [
            e for e in self.entries if e.display_name == display and wanted in self.child_ids(e)
        ]

    def listing(self, display: str, child: str) -> Any:
        """The one detail named ``display`` whose children hold the node ``child`` (or None)."""
        found = self.listing_all(display, child)
        assert len(found) <= 1, f"{len(found)} details named {display} list {child}"
        return found[0] if found else None

    def task(self, name: str) -> Any:
        """The DAG detail of the container task whose node is ``name`` (it holds the executor)."""
        found = self.listing(name.rsplit(".", 1)[-1], f"{name}.executor")
        assert found is not None, f"no detail holds {name}.executor"
        return found

    def edges(self) -> int:
        """How many child links all the details list."""
        return sum(len(self.child_ids(e)) for e in self.entries)

    def referenced(self, name: str) -> bool:
        """Whether some detail lists the node ``name`` as a child (the node exists)."""
        return any(self.id(name) in self.child_ids(e) for e in self.entries)
