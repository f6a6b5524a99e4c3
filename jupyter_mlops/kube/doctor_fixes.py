"""How to change a pod that a controller makes: the fix names the object the user edits."""

from __future__ import annotations

import json
from typing import Any

from .doctor import ObjectRef, top_owner

_SET_RESOURCES = {"Deployment": "deployment", "StatefulSet": "statefulset", "ReplicaSet": "rs"}
_PATCHABLE = {"Deployment": "deployment", "StatefulSet": "statefulset", "Notebook": "notebook"}


def resources_fix(
    namespace: str, pod: str, owners: list[ObjectRef], container: str, field: str, value: str
) -> str:
    """How to set `field` ('requests.cpu', 'limits.memory', …) of a container to `value`."""
    which, resource = field.split(".", 1)
    top = top_owner(owners)
    if top is not None and top.kind in _SET_RESOURCES:
        return (
            f"kubectl -n {namespace} set resources {_SET_RESOURCES[top.kind]}/{top.name} "
            f"-c {container} --{which}={resource}={value}"
        )
    if top is not None and top.kind == "Notebook":
        return (
            f"kubectl -n {namespace} edit notebook {top.name} and set "
            f"spec.template.spec.containers[name={container}].resources.{field}: {value} "
            "(or choose it in the Kubeflow notebook form and create the notebook again)"
        )
    if top is not None and top.kind == "InferenceService":
        return (
            f"kubectl -n {namespace} edit inferenceservice {top.name} and set "
            f"spec.predictor.model.resources.{field}: {value}"
        )
    if top is not None and top.kind == "PipelineRun":
        setter = {
            "requests.cpu": "set_cpu_request",
            "limits.cpu": "set_cpu_limit",
            "requests.memory": "set_memory_request",
            "limits.memory": "set_memory_limit",
        }.get(field, "set_accelerator_limit")
        return (
            f"in the pipeline, call task.{setter}('{value}') on the task whose pod is {pod}, "
            f"then submit run {top.name}'s pipeline again"
        )
    if top is not None and top.kind == "Trial":
        return (
            f"set resources.{field}: {value} on container {container} in the Experiment's "
            "trialTemplate, then start the Experiment again"
        )
    if top is not None and top.kind == "Job":
        return (
            f"a Job's pod template cannot change: kubectl -n {namespace} get job {top.name} -o "
            f"yaml > {top.name}.yaml, set resources.{field}: {value} on container {container}, "
            f"then kubectl -n {namespace} delete job {top.name} && kubectl apply -f "
            f"{top.name}.yaml"
        )
    return (
        f"a pod's resources cannot change in place: kubectl -n {namespace} get pod {pod} -o yaml "
        f"> {pod}.yaml, set resources.{field}: {value} on container {container}, then kubectl "
        f"-n {namespace} delete pod {pod} && kubectl apply -f {pod}.yaml"
    )


def template_fix(
    namespace: str, pod: str, owners: list[ObjectRef], spec_patch: dict[str, Any], what: str
) -> str:
    """How to merge `spec_patch` into the pod spec, through whatever makes the pod."""
    body = json.dumps({"spec": {"template": {"spec": spec_patch}}}, separators=(",", ":"))
    top = top_owner(owners)
    if top is not None and top.kind in _PATCHABLE:
        return (
            f"kubectl -n {namespace} patch {_PATCHABLE[top.kind]} {top.name} --type merge "
            f"-p '{body}'"
        )
    if top is not None and top.kind == "PipelineRun":
        return (
            f"in the pipeline, add {what} to the task whose pod is {pod} (kfp-kubernetes: "
            f"kubernetes.add_toleration / add_node_selector), then submit run {top.name}'s "
            "pipeline again"
        )
    plain = json.dumps(spec_patch, separators=(",", ":"))
    if top is not None:
        return (
            f"add {what} to {top.kind} {top.name}'s pod spec ({plain}) and create it again: "
            f"kubectl -n {namespace} get {top.kind.lower()} {top.name} -o yaml"
        )
    return (
        f"add {what} to the pod's spec ({plain}): kubectl -n {namespace} get pod {pod} -o yaml "
        f"> {pod}.yaml, edit it, then kubectl -n {namespace} delete pod {pod} && kubectl apply "
        f"-f {pod}.yaml"
    )
