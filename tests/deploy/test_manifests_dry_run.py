"""`manifests/` against the real kube-apiserver, in a Kubeflow profile namespace with Kubeflow's
CRDs: a server-side dry-run accepts every object as written (PodDefaults checked against the
real schema, strictly), persists nothing, and refuses a broken copy; the README's command works
for the profile's owner."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.plane import ProfileNamespace

ROOT = Path(__file__).parents[2]
KUSTOMIZATIONS = sorted(p.parent for p in (ROOT / "manifests").rglob("kustomization.yaml"))
Obj = dict[str, Any]


def build(profile: ProfileNamespace, kustomization: Path) -> list[Obj]:
    """What the built kubectl's kustomize makes of `kustomization`."""
    out = profile.plane.kubectl("kustomize", str(kustomization)).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def dry_run(profile: ProfileNamespace, objects: list[Obj], *, check: bool = True) -> Any:
    """`kubectl apply --server-side --dry-run=server --validate=strict` into the profile, as the
    cluster admin who installs the manifests."""
    # A YAML stream, as kustomize prints it: kubectl then leaves every check to the server
    # (a List would be checked by kubectl's own schema copy first).
    path = profile.tmp_path / f"manifests-{len(list(profile.tmp_path.iterdir()))}.yaml"
    path.write_text(yaml.safe_dump_all(objects))
    return profile.admin.kubectl(
        "apply",
        "--server-side",
        "--dry-run=server",
        "--validate=strict",
        "-n",
        profile.name,
        "-f",
        str(path),
        "-o",
        "json",
        check=check,
    )


def answered(stdout: str) -> list[Obj]:
    out = json.loads(stdout)
    items: list[Obj] = out["items"] if out.get("kind") == "List" else [out]
    return items


def missing(sent: Any, got: Any, path: str = "") -> list[str]:
    """Where `got` lacks or changed what was `sent` (the server may add, never drop)."""
    if isinstance(sent, dict) and isinstance(got, dict):
        return [p for k, v in sent.items() for p in missing(v, got.get(k), f"{path}.{k}")]
    if isinstance(sent, list) and isinstance(got, list) and len(sent) == len(got):
        pairs = enumerate(zip(sent, got, strict=True))
        return [p for i, (s, g) in pairs for p in missing(s, g, f"{path}[{i}]")]
    return [] if sent == got else [path or "."]


def ref(obj: Obj) -> str:
    return f"{obj['kind'].lower()}/{obj['metadata']['name']}"


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_manifest_passes_a_strict_server_side_dry_run(
    profile: ProfileNamespace, kustomization: Path
) -> None:
    objects = build(profile, kustomization)
    assert any(o["kind"] == "PodDefault" for o in objects)  # the custom resources are in it
    result = dry_run(profile, objects)
    got = answered(result.stdout)
    assert [ref(o) for o in got] == [ref(o) for o in objects]
    for sent, stored in zip(objects, got, strict=True):
        assert stored["metadata"]["namespace"] == profile.name
        body = {k: v for k, v in sent.items() if k != "metadata"}
        # Nothing pruned by a schema, nothing rewritten: the server would store what we ship.
        assert missing(body, stored) == [], ref(sent)


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_dry_run_persists_nothing(profile: ProfileNamespace, kustomization: Path) -> None:
    objects = build(profile, kustomization)
    dry_run(profile, objects)
    for obj in objects:
        got = profile.admin.kubectl("get", ref(obj), "-n", profile.name, check=False)
        assert got.returncode != 0 and "NotFound" in got.stderr, ref(obj)
    kinds = sorted({f"{o['kind'].lower()}s" for o in objects})
    listed = profile.admin.get(",".join(kinds), "-n", profile.name)
    # Only what the profile itself holds: its three RoleBindings.
    assert {ref(o) for o in listed["items"]} == {
        "rolebinding/default-editor",
        "rolebinding/default-viewer",
        "rolebinding/namespaceAdmin",
    }


# Each breaks the pipelines PodDefault and names what the server (or, for a version it does not
# serve, kubectl from the server's discovery) answers.
def _unknown_field(pd: Obj) -> str:
    pd["spec"]["selectors"] = pd["spec"]["selector"]
    return ".spec.selectors: field not declared in schema"


def _wrong_version(pd: Obj) -> str:
    pd["apiVersion"] = "kubeflow.org/v1"
    return 'no matches for kind "PodDefault" in version "kubeflow.org/v1"'


def _no_selector(pd: Obj) -> str:
    del pd["spec"]["selector"]
    return "spec.selector: Required value"


def _wrong_type(pd: Obj) -> str:
    pd["spec"]["volumes"][0]["projected"]["sources"][0]["serviceAccountToken"][
        "expirationSeconds"
    ] = "two hours"
    return "serviceAccountToken.expirationSeconds: expected numeric (int or float), got string"


@pytest.mark.parametrize(
    "breakage",
    [_unknown_field, _wrong_version, _no_selector, _wrong_type],
    ids=["unknown-field", "wrong-apiVersion", "no-selector", "wrong-type"],
)
def test_a_broken_copy_is_refused(
    profile: ProfileNamespace, breakage: Callable[[Obj], str]
) -> None:
    objects = copy.deepcopy(build(profile, ROOT / "manifests" / "base"))
    pipelines = next(o for o in objects if o["metadata"]["name"] == "access-ml-pipeline")
    expected = breakage(pipelines)
    result = dry_run(profile, objects, check=False)
    assert result.returncode != 0
    assert expected in result.stderr
    # The objects beside the broken one were dry-run too: none of them stayed either.
    assert profile.admin.kubectl("get", "poddefaults", "-n", profile.name).stdout == ""


def test_the_profile_owner_applies_them_as_the_readme_says(profile: ProfileNamespace) -> None:
    """`kubectl apply -k manifests/base -n <your-namespace>`, for real, as the owner
    (kubeflow-admin in the profile, nothing cluster-wide)."""
    base = str(ROOT / "manifests" / "base")
    owner = f"--as={profile.owner}"
    applied = profile.admin.kubectl("apply", "-k", base, "-n", profile.name, owner).stdout
    objects = build(profile, ROOT / "manifests" / "base")
    for obj in objects:
        kind = obj["apiVersion"].split("/")[0]
        group = "" if kind == obj["apiVersion"] else f".{kind}"
        assert f"{obj['kind'].lower()}{group}/{obj['metadata']['name']} created" in applied
    again = profile.admin.kubectl("apply", "-k", base, "-n", profile.name, owner).stdout
    assert again.count("unchanged") == len(objects)


def test_the_owner_may_not_server_side_apply_poddefaults(profile: ProfileNamespace) -> None:
    """Kubeflow's roles let a profile's owner and editors create and delete PodDefaults, never
    patch them: server-side apply (a patch) is refused, so the README's client-side apply is
    the one that works."""
    objects = [o for o in build(profile, ROOT / "manifests" / "base") if o["kind"] == "PodDefault"]
    refused = profile.admin.kubectl(
        "apply",
        "--server-side",
        "-n",
        profile.name,
        f"--as={profile.owner}",
        "-f",
        str(profile.manifest(*objects)),
        check=False,
    )
    assert refused.returncode != 0
    assert (
        f'User "{profile.owner}" cannot patch resource "poddefaults" in API group "kubeflow.org"'
        in refused.stderr
    )
