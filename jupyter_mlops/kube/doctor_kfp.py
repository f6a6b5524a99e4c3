"""The doctor for a KFP run's task: the diagnosis of its executor pod, or, when the pod is gone
(Argo's pod GC, a namespace cleanup), the task's last known state as the KFP API keeps it."""

from __future__ import annotations

from .cluster import Obj
from .doctor import Evidence, Finding, ObjectRef, Reading, name_of, owner_chain

RUN_LABEL = "pipeline/runid"
NODE_ANNOTATION = "workflows.argoproj.io/node-name"


def task_pods(reading: Reading, run_id: str, task: str) -> list[Obj]:
    """The task's executor pods (one per attempt), oldest first."""
    found = []
    for pod in reading.objects("pods"):
        meta = pod.get("metadata") or {}
        if (meta.get("labels") or {}).get(RUN_LABEL) != run_id:
            continue
        node = str((meta.get("annotations") or {}).get(NODE_ANNOTATION) or "")
        if f".{task}.executor" in node or node.endswith(f".{task}"):
            pod.setdefault("kind", "Pod")
            found.append(pod)
    return sorted(found, key=lambda p: str((p.get("metadata") or {}).get("creationTimestamp")))


def diagnose_task(
    reading: Reading,
    run_id: str,
    task: str,
    last_state: str | None,
    finished_at: str | None,
    error: str | None,
) -> list[Finding]:
    from .doctor_pods import diagnose_pod

    pods = task_pods(reading, run_id, task)
    if pods:
        found = diagnose_pod(reading, pods[-1])
        if found or (last_state or "").upper() != "FAILED":
            return found
        return [_failed_pod_said_nothing(reading, pods[-1], run_id, task)]
    if (last_state or "").upper() not in ("FAILED", "ERROR"):
        return []
    return [_pod_gone(reading, run_id, task, str(last_state), finished_at, error)]


def _pod_gone(
    reading: Reading,
    run_id: str,
    task: str,
    state: str,
    finished_at: str | None,
    error: str | None,
) -> Finding:
    evidence = [
        Evidence(
            source="status",
            text=f"KFP task {task}: state {state}"
            + (f", finished {finished_at}" if finished_at else ""),
            time=finished_at,
        ),
        Evidence(
            source="status",
            text=f"no pod labelled {RUN_LABEL}={run_id} runs task {task} in {reading.namespace}",
        ),
    ]
    if error:
        evidence.append(Evidence(source="status", text=f"KFP task error: {error}"))
    return Finding(
        severity="error",
        object=ObjectRef(kind="PipelineTask", name=task),
        owners=[ObjectRef(kind="PipelineRun", name=run_id)],
        cause="task-pod-gone",
        summary=f"Task {task} of run {run_id} failed, and its pod is gone, so the cluster no "
        f"longer says why: its last known state is {state}"
        + (f" (finished {finished_at})" if finished_at else "")
        + (f": {error}" if error else "")
        + ".",
        evidence=evidence,
        fix="Run the pipeline again to see the cause on a live pod (pods of failed runs are "
        "kept when the pipeline's pod GC strategy is OnPodSuccess); the task's log may still "
        "be among the run's artifacts, where the pipeline archives logs.",
        certainty="likely",
    )


def _failed_pod_said_nothing(reading: Reading, pod: Obj, run_id: str, task: str) -> Finding:
    name = name_of(pod)
    phase = (pod.get("status") or {}).get("phase")
    return Finding(
        severity="error",
        object=ObjectRef(kind="Pod", name=name),
        owners=owner_chain(reading, pod),
        cause="task-failed",
        summary=f"Task {task} of run {run_id} failed; its pod {name} is {phase} and says no more.",
        evidence=[Evidence(source="status", text=f"phase {phase}")],
        fix=f"kubectl -n {reading.namespace} logs {name} -c main",
        certainty="likely",
    )
