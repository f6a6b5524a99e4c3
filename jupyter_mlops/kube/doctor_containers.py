"""The doctor's rules for containers: images, config, crashes, memory, probes, eviction."""

from __future__ import annotations

import datetime as dt
import re

from .cluster import Obj
from .doctor import (
    Evidence,
    Finding,
    ObjectRef,
    Reading,
    condition,
    event_evidence,
    event_message,
    name_of,
    parse_time,
    present,
    ref,
)
from .doctor_fixes import resources_fix
from .doctor_pods import (
    _BAD_URI,
    _CUDA_OOM,
    _MISSING_KEY,
    _MISSING_OBJECT,
    _MODULE,
    _NUMPY_ABI,
    BACK_OFF_RESET,
    IMAGE_WAITING,
    STUCK_AFTER,
    Pod,
)
from .doctor_rights import forbidden

# -- containers ----------------------------------------------------------------------------


def container(pod: Pod, cs: Obj, init: bool) -> None:
    name = str(cs.get("name"))
    state = cs.get("state") or {}
    waiting = state.get("waiting") or {}
    terminated = state.get("terminated")
    last = (cs.get("lastState") or {}).get("terminated")
    reason = waiting.get("reason")
    if reason in IMAGE_WAITING:
        image_pull(pod, cs, waiting)
        return
    if reason == "CreateContainerConfigError":
        config_error(pod, name, str(waiting.get("message") or ""))
        return
    if reason in ("CreateContainerError", "RunContainerError"):
        pod.add(
            "container-create-error",
            f"Container {name} cannot be started: {waiting.get('message', reason)}",
            [Evidence(source="status", text=f"waiting: {reason}: {waiting.get('message', '')}")],
            "Check the container's command, volume mounts and securityContext in the pod spec.",
        )
        return
    ended = terminated if terminated is not None else last
    if ended and ended.get("reason") == "OOMKilled":
        oom_killed(pod, name, cs, ended, severity="warning" if state.get("running") else "error")
        return
    looping = reason == "CrashLoopBackOff" or crash_looping(pod, cs, ended)
    failed = terminated is not None and int(terminated.get("exitCode") or 0) != 0
    if not (looping or failed):
        return
    restarted = looping or pod.spec.get("restartPolicy", "Always") != "Never"
    if restarted and liveness_killed(pod, name):
        return  # the probe, not the program, ends it: see `probes`
    crashed(
        pod,
        cs,
        init,
        ended or {},
        looping=looping,
        # The run that ended is the previous one, unless the container has not started again.
        previous=terminated is None,
        severity="warning" if state.get("running") is not None else "error",
    )


def crash_looping(pod: Pod, cs: Obj, ended: Obj | None) -> bool:
    """Between two back-offs a crash-looping container runs again, or has just ended: the
    loop goes on while its last crash is recent (the kubelet forgets a container's back-off
    once it has run for 10 minutes)."""
    if ended is None or not int(cs.get("restartCount") or 0):
        return False
    if int(ended.get("exitCode") or 0) == 0:
        return False
    finished = parse_time(ended.get("finishedAt"))
    return finished is None or pod.reading.before(finished + BACK_OFF_RESET)


def image_pull(pod: Pod, cs: Obj, waiting: Obj) -> None:
    name = str(cs.get("name"))
    image = str(pod.container_spec(name).get("image") or cs.get("image") or "")
    failures = [e for e in pod.events_for("Failed", name) if "image" in event_message(e).lower()]
    # The kubelet follows "Failed to pull image X: why" with "Error: ErrImagePull" and, backing
    # off, "Error: ImagePullBackOff": the first says why.
    saying_why = [e for e in failures if event_message(e).startswith("Failed to pull image")]
    failures = saying_why or failures
    evidence = [Evidence(source="spec", text=f"container {name}: image: {image}")]
    evidence.append(
        Evidence(
            source="status",
            text=f"waiting: {waiting.get('reason')}: {waiting.get('message', '')}".rstrip(": "),
        )
    )
    if failures:
        evidence.append(event_evidence(failures[-1]))
    text = " ".join([str(waiting.get("message") or "")] + [event_message(e) for e in failures[-2:]])
    low = text.lower()
    secrets = [str(s.get("name")) for s in pod.spec.get("imagePullSecrets") or []]
    account = pod.spec.get("serviceAccountName") or "default"
    registry = (
        image.split("/", 1)[0] if "/" in image and "." in image.split("/", 1)[0] else "docker.io"
    )
    certainty = "certain"
    if waiting.get("reason") == "InvalidImageName":
        cause, why = "invalid-image-name", "the image name is not valid"
        fix = f"Correct the image name {image!r} of container {name} (registry/repository:tag)."
    elif "toomanyrequests" in low or "rate limit" in low:
        cause, why = (
            "image-pull-rate-limited",
            f"the registry {registry} refuses: too many pulls (rate limit)",
        )
        fix = (
            f"Pull with an account: kubectl -n {pod.namespace} create secret docker-registry "
            f"regcred --docker-server={registry} --docker-username=USER --docker-password=TOKEN, "
            f"then kubectl -n {pod.namespace} patch serviceaccount {account} -p "
            '\'{"imagePullSecrets": [{"name": "regcred"}]}\'; or use a mirror of the image.'
        )
    elif any(
        w in low
        for w in (
            "unauthorized",
            "authentication required",
            "no basic auth",
            "403 forbidden",
            "401",
        )
    ) or ("denied" in low and "does not exist" not in low):
        cause = "image-pull-unauthorized"
        missing = [
            s
            for s in secrets
            if pod.reading.readable("secrets")
            and pod.reading.by_name("secrets", str(s), present) is None
        ]
        if missing:
            why = (
                "the registry needs credentials and the pull secret "
                f"{', '.join(map(str, missing))} does not exist"
            )
        elif secrets:
            why = f"the registry refuses the credentials of pull secret {', '.join(secrets)}"
        else:
            why = f"the registry {registry} needs credentials and the pod has no imagePullSecrets"
        fix = (
            f"kubectl -n {pod.namespace} create secret docker-registry regcred "
            f"--docker-server={registry} --docker-username=USER --docker-password=TOKEN, then "
            f"kubectl -n {pod.namespace} patch serviceaccount {account} -p "
            '\'{"imagePullSecrets": [{"name": "regcred"}]}\' and delete the pod so it is made '
            "again."
        )
    elif any(
        w in low
        for w in ("not found", "manifest unknown", "notfound", "does not exist", "name unknown")
    ):
        cause = "image-not-found"
        tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else "latest"
        why = f"the registry has no such image or tag ({tag!r})"
        if "pull access denied" in low:
            certainty = "likely"  # Docker Hub says the same of a private repository
        fix = (
            f"Correct the image of container {name} ({image}): check the repository and the tag "
            f"exist (docker manifest inspect {image}), or push the image first."
        )
    else:
        cause, why = "image-pull-failed", "the pull failed"
        certainty = "likely"
        fix = f"Check that {registry} is reachable from the cluster and the image {image} exists."
    pod.add(
        cause,
        f"Container {name} cannot pull its image {image!r}: {why}.",
        evidence,
        fix,
        certainty=certainty,
    )


def config_error(pod: Pod, name: str, message: str) -> None:
    evidence = [Evidence(source="status", text=f"waiting: CreateContainerConfigError: {message}")]
    failed = [e for e in pod.events_for("Failed", name)]
    if failed:
        evidence.append(event_evidence(failed[-1]))
    key = _MISSING_KEY.search(message)
    if key:
        k, kind, _, obj_name = key.groups()
        plural = "configmaps" if kind == "ConfigMap" else "secrets"
        has = ""
        if pod.reading.readable(plural):
            found = pod.reading.by_name(plural, obj_name)
            if found is not None:
                keys = sorted({**(found.get("data") or {}), **(found.get("binaryData") or {})})
                has = f" (it has: {', '.join(keys) or 'no keys'})"
        field = "data" if kind == "ConfigMap" else "stringData"
        pod.add(
            f"missing-{kind.lower()}-key",
            f"Container {name} cannot start: {kind} {obj_name} has no key {k}{has}.",
            evidence,
            f"kubectl -n {pod.namespace} patch {kind.lower()} {obj_name} --type merge -p "
            f'\'{{"{field}": {{"{k}": "VALUE"}}}}\', or change the key the container refers to.',
        )
        return
    missing = _MISSING_OBJECT.search(message)
    if missing:
        kind = "ConfigMap" if missing.group(1).lower() == "configmap" else "Secret"
        obj_name = missing.group(2)
        create = (
            f"kubectl -n {pod.namespace} create configmap {obj_name} --from-literal=KEY=VALUE"
            if kind == "ConfigMap"
            else f"kubectl -n {pod.namespace} create secret generic {obj_name} "
            "--from-literal=KEY=VALUE"
        )
        pod.add(
            f"missing-{kind.lower()}",
            f"Container {name} cannot start: the {kind} {obj_name} it uses does not exist.",
            evidence,
            f"{create} (with the keys the container reads), or mark the reference optional: true.",
        )
        return
    pod.add(
        "container-config-error",
        f"Container {name} cannot start, its configuration is wrong: {message}",
        evidence,
        "Check the ConfigMaps, Secrets and env references of the container.",
    )


def oom_killed(pod: Pod, name: str, cs: Obj, ended: Obj, severity: str) -> None:
    resources = pod.container_spec(name).get("resources") or {}
    limit = (resources.get("limits") or {}).get("memory")
    request = (resources.get("requests") or {}).get("memory")
    bound = f"its memory limit {limit}" if limit else "the node's memory (it has no memory limit)"
    asked = f", request {request}" if request else ", no memory request"
    raised = _double(str(limit)) if limit else "2Gi"
    pod.add(
        "oom-killed",
        f"Container {name} ran out of memory and was killed (OOMKilled, exit code "
        f"{ended.get('exitCode')}, {_restarts(int(cs.get('restartCount') or 0))}): "
        "it used more than "
        f"{bound}{asked}.",
        [
            Evidence(source="status", text=_termination_text(ended)),
            Evidence(
                source="spec",
                text=f"container {name}: limits.memory={limit}, requests.memory={request}",
            ),
        ],
        resources_fix(pod.namespace, pod.name, pod.owners, name, "limits.memory", raised)
        + " (and requests.memory to match), or make the program use less memory.",
        severity=severity,
    )


def _double(quantity_text: str) -> str:
    match = re.fullmatch(r"(\d+)([A-Za-z]*)", quantity_text)
    return f"{int(match.group(1)) * 2}{match.group(2)}" if match else quantity_text


def _termination_text(ended: Obj) -> str:
    text = f"terminated: reason {ended.get('reason')}, exit code {ended.get('exitCode')}"
    if ended.get("finishedAt"):
        text += f", finished {ended.get('finishedAt')}"
    if ended.get("message"):
        text += f": {ended.get('message')}"
    return text


#: A Python exception as the interpreter's last words print it: `ValueError: …`.
_EXCEPTION = re.compile(r"^(?:[A-Za-z_][\w]*\.)*[A-Za-z_]\w*(?:Error|Exception|Exit|Interrupt)\b")


def _telling(lines: list[str], which: str) -> str:
    """The line of the log that says why: the program's own last exception, which a launcher
    (KFP's, a shell wrapper) may follow with its own words; else the last line."""
    if not lines:
        return f" Its {which} is empty."
    last = lines[-1].strip()
    if _EXCEPTION.match(last):
        return f" Its {which} ends: {last}"
    raised = next(
        (line.strip() for line in reversed(lines) if _EXCEPTION.match(line.strip())), None
    )
    if raised is None:
        return f" Its {which} ends: {last}"
    return f" Its {which} says: {raised} (and ends: {last})"


def crashed(
    pod: Pod,
    cs: Obj,
    init: bool,
    ended: Obj,
    *,
    looping: bool,
    previous: bool,
    severity: str = "error",
) -> None:
    name = str(cs.get("name"))
    code = ended.get("exitCode")
    restarts = int(cs.get("restartCount") or 0)
    uid = (pod.obj.get("metadata") or {}).get("uid")
    run = f"{uid}:{restarts}:{ended.get('finishedAt')}" if previous and uid else ""
    lines = pod.reading.logs(pod.name, name, previous=previous, run=run)
    evidence = [
        Evidence(source="status", text=_termination_text(ended), time=ended.get("finishedAt"))
    ]
    evidence += [Evidence(source="log", text=line) for line in lines[-5:]]
    text = "\n".join(lines)
    which = "previous log" if previous else "log"
    tail = _telling(lines, which)
    how = (
        f"keeps crashing (exit code {code}, {_restarts(restarts)})"
        if looping
        else f"failed (exit code {code})"
    )
    where = "init container" if init else "container"
    module = _MODULE.search(text)
    if any(s in text for s in _NUMPY_ABI):
        cause, what = (
            "numpy-abi-mismatch",
            (
                "a package in the image was compiled against another NumPy major version than the "
                "one installed (NumPy ABI mismatch)"
            ),
        )
        fix = (
            "Pin numpy to the version the packages were built for (e.g. 'numpy<2' in the "
            "component's packages_to_install or the image's requirements), or build the custom "
            "image described in image/ with matching versions."
        )
    elif module:
        package = module.group(1).split(".")[0]
        cause, what = "python-module-not-found", f"Python cannot import {module.group(1)!r}"
        fix = (
            f"Add {package} to the image (pip install {package} in its Dockerfile; see image/) "
            f"or to the component's packages_to_install=['{package}']."
        )
    elif "ImportError" in text:
        cause, what = "python-import-error", "a Python import fails"
        fix = "Install matching package versions in the image or the component's packages."
    elif any(s in text for s in _CUDA_OOM):
        cause, what = "cuda-out-of-memory", "the GPU ran out of memory (CUDA out of memory)"
        fix = (
            "Lower the batch size or the model size, free cached memory between steps, or ask "
            f"for a GPU with more memory (resources.limits.nvidia.com/gpu on container {name})."
        )
    elif name == "storage-initializer" and any(s in text for s in _BAD_URI):
        cause, what = "bad-storage-uri", "the model could not be downloaded from its storageUri"
        fix = (
            "Correct spec.predictor.model.storageUri of the InferenceService (the path must "
            "exist and the service account must be allowed to read it)."
        )
    elif refused := forbidden(pod.reading, text, str(pod.spec.get("serviceAccountName") or "")):
        cause, fix = "forbidden", refused[1]
        what = f"the API server refused it: {refused[0]}"
        evidence += refused[2]
    else:
        cause = "crash-loop" if looping else "container-failed"
        what = _exit_words(code)
        fix = (
            f"kubectl -n {pod.namespace} logs {pod.name} -c {name}"
            + (" --previous" if previous else "")
            + ": read why the program stops, and fix the program or its command."
        )
    pod.add(
        cause,
        f"{where.capitalize()} {name} {how}: {what}. Read its {which}.{tail}",
        evidence,
        fix,
        severity=severity,
    )


def _exit_words(code: object) -> str:
    words = {
        1: "the program ended with an error",
        2: "the program was called wrongly",
        126: "the command is not executable",
        127: "the command was not found in the image",
        137: "it was killed (SIGKILL)",
        139: "it crashed (segmentation fault)",
        143: "it was stopped (SIGTERM)",
    }
    return words.get(int(code) if isinstance(code, int) else -1, "the program ended with an error")


# -- probes, mounts, eviction, deletion ----------------------------------------------------


def _probe_events(pod: Pod, kind: str) -> dict[str, list[Obj]]:
    by_container: dict[str, list[Obj]] = {}
    for e in pod.events_for("Unhealthy"):
        if not event_message(e).startswith(f"{kind} probe failed"):
            continue
        path = str((e.get("involvedObject") or e.get("regarding") or {}).get("fieldPath") or "")
        match = re.search(r"\{([^}]+)\}", path)
        name = (
            match.group(1) if match else str(((pod.spec.get("containers") or [{}])[0]).get("name"))
        )
        by_container.setdefault(name, []).append(e)
    return by_container


def liveness_killed(pod: Pod, name: str) -> bool:
    return name in _probe_events(pod, "Liveness")


def _probe_text(probe: Obj) -> str:
    parts = []
    for how in ("httpGet", "tcpSocket", "exec", "grpc"):
        if how in probe:
            parts.append(f"{how} {probe[how]}")
    for knob in ("initialDelaySeconds", "periodSeconds", "timeoutSeconds", "failureThreshold"):
        if knob in probe:
            parts.append(f"{knob}={probe[knob]}")
    return ", ".join(parts)


def probes(pod: Pod) -> None:
    statuses = {c.get("name"): c for c in pod.status.get("containerStatuses") or []}
    for kind, field_name in (("Liveness", "livenessProbe"), ("Readiness", "readinessProbe")):
        for name, events in _probe_events(pod, kind).items():
            cs = statuses.get(name) or {}
            restarts = int(cs.get("restartCount") or 0)
            # A liveness failure matters once the kubelet acted on it: killed, or restarted.
            killed = (cs.get("state") or {}).get("terminated") is not None
            if kind == "Liveness" and not (restarts or killed or pod.events_for("Killing", name)):
                continue
            if kind == "Readiness" and cs.get("ready"):
                continue
            probe = pod.container_spec(name).get(field_name) or {}
            delay = int(probe.get("initialDelaySeconds") or 0)
            patch_value = max(30, delay * 2)
            summary = (
                f"Container {name} fails its liveness probe, so the kubelet restarts it "
                f"({_restarts(restarts)})"
                if kind == "Liveness"
                else f"Container {name} fails its readiness probe, so it gets no traffic"
            )
            pod.add(
                f"{kind.lower()}-probe-failing",
                f"{summary}: {event_message(events[-1])}",
                [
                    Evidence(source="spec", text=f"{field_name}: {_probe_text(probe)}"),
                    *(event_evidence(e) for e in events[-2:]),
                ],
                "Make the probe's endpoint answer (right path and port), or give the program time "
                f"to start: set {field_name}.initialDelaySeconds: {patch_value} (and a higher "
                f"failureThreshold) on container {name}"
                + (f" in {pod.owners[-1].kind} {pod.owners[-1].name}" if pod.owners else "")
                + ".",
                severity="error" if kind == "Liveness" else "warning",
            )


def mounts(pod: Pod) -> None:
    if pod.status.get("phase") != "Pending" or not pod.spec.get("nodeName"):
        return
    failed = pod.events_for("FailedMount") + pod.events_for("FailedAttachVolume")
    if not failed:
        return
    message = event_message(failed[-1])
    missing = _MISSING_OBJECT.search(message)
    if missing:
        kind = "ConfigMap" if missing.group(1).lower() == "configmap" else "Secret"
        pod.add(
            f"missing-{kind.lower()}",
            f"Pod {pod.name} cannot mount a volume: the {kind} {missing.group(2)} does not exist.",
            [event_evidence(failed[-1])],
            f"Create {kind} {missing.group(2)} in namespace {pod.namespace}, or mark the volume "
            "optional: true.",
        )
        return
    pod.add(
        "mount-failed",
        f"Pod {pod.name} cannot mount its volumes: {message}",
        [event_evidence(failed[-1])],
        "Check the pod's volumes: the claims, ConfigMaps and Secrets they name must exist.",
    )


def evicted(pod: Pod) -> None:
    message = str(pod.status.get("message") or "")
    low = message.lower()
    if "ephemeral-storage" in low or "ephemeral local storage" in low:
        cause, fix = (
            "evicted-ephemeral-storage",
            (
                "Write large files to a PersistentVolumeClaim instead of the container's disk, "
                "or set resources.requests/limits.ephemeral-storage on its containers"
            ),
        )
    elif "memory" in low:
        cause, fix = "evicted-memory", "Set memory requests equal to the real use of its containers"
    else:
        cause, fix = "evicted", "Find out what the node was short of (the message says)"
    owned = bool(pod.owners)
    pod.add(
        cause,
        f"Pod {pod.name} was evicted from its node: {message}"
        + (" Its controller made a new pod." if owned else ""),
        [Evidence(source="status", text=f"phase Failed, reason Evicted: {message}")],
        f"{fix}; then remove the evicted pod: kubectl -n {pod.namespace} delete pod {pod.name}.",
        severity="warning" if owned else "error",
    )


def terminating(pod: Pod) -> None:
    finding = stuck_terminating(pod.reading, pod.obj, pod.owners)
    if finding is None:
        finding = on_a_node_gone(pod)
    if finding is not None:
        pod.found.append(finding)


def node_gone(reading: Reading, obj: Obj) -> str | None:
    """The name of the pod's node when that node no longer exists (where nodes are readable)."""
    node = (obj.get("spec") or {}).get("nodeName")
    if not node or not reading.readable("nodes"):
        return None
    return None if reading.by_name("nodes", str(node), present) is not None else str(node)


def on_a_node_gone(pod: Pod) -> Finding | None:
    """A pod not (yet) deleted whose node was: nothing runs it any more."""
    node = node_gone(pod.reading, pod.obj)
    if node is None or pod.status.get("phase") in ("Succeeded", "Failed"):
        return None
    owned = bool(pod.owners)
    return Finding(
        severity="error",
        object=ref(pod.obj, "Pod"),
        owners=pod.owners,
        cause="node-gone",
        summary=f"Pod {pod.name} is bound to node {node}, but its node {node} no longer exists: "
        "nothing runs its containers, whatever its status still says. The pod garbage "
        "collector deletes it"
        + (", and its controller makes a new one." if owned else "; nothing makes it again."),
        evidence=[
            Evidence(source="spec", text=f"nodeName: {node}"),
            Evidence(source="status", text=f"node {node}: gone"),
        ],
        fix=f"kubectl -n {pod.namespace} delete pod {pod.name}"
        + (
            ""
            if owned
            else f", then create it again (kubectl -n {pod.namespace} get pod "
            f"{pod.name} -o yaml, without spec.nodeName)"
        ),
    )


def stuck_terminating(reading: Reading, obj: Obj, owners: list[ObjectRef]) -> Finding | None:
    """An object whose deletion should have ended: finalizers, or a node gone."""
    meta = obj.get("metadata") or {}
    when = parse_time(meta.get("deletionTimestamp"))
    if when is None:
        return None
    kind = str(obj.get("kind") or "Pod")
    gone = node_gone(reading, obj) if kind == "Pod" else None
    # Past its deletionTimestamp (a pod's grace period) with no kubelet there: stuck already.
    wait = 0 if gone else STUCK_AFTER
    if reading.before(when + dt.timedelta(seconds=wait)):
        return None
    name = name_of(obj)
    namespace = reading.namespace
    finalizers = [str(f) for f in meta.get("finalizers") or []]
    evidence = [
        Evidence(
            source="status",
            text=f"deletionTimestamp {meta.get('deletionTimestamp')}",
            time=meta.get("deletionTimestamp"),
        )
    ]
    node = (obj.get("spec") or {}).get("nodeName") if kind == "Pod" else None
    stuck_for = max(0, int((reading.now - when).total_seconds()))
    if finalizers:
        return _on_finalizers(reading, obj, owners, finalizers, evidence, stuck_for)
    if node and reading.readable("nodes"):
        there = reading.by_name("nodes", str(node))
        ready = condition(there, "Ready") if there is not None else None
        if there is None or (ready is not None and ready.get("status") != "True"):
            evidence.append(
                Evidence(
                    source="status",
                    text=f"node {node}: "
                    + (
                        "gone"
                        if there is None
                        else f"Ready={ready.get('status') if ready else '?'}"
                    ),
                )
            )
            return Finding(
                severity="error",
                object=ref(obj, kind),
                owners=owners,
                cause="stuck-terminating-node-gone",
                summary=f"Pod {name} has been deleting for {stuck_for} s past its grace period "
                f"because its node {node} "
                + ("no longer exists" if there is None else "is not ready")
                + ": no kubelet is there to stop it"
                + (" (the pod garbage collector removes it soon)." if there is None else "."),
                evidence=evidence,
                fix=f"kubectl -n {namespace} delete pod {name} --grace-period=0 --force",
            )
    return Finding(
        severity="warning",
        object=ref(obj, kind),
        owners=owners,
        cause="stuck-terminating",
        summary=f"{kind} {name} has been deleting for {stuck_for} s, past its grace period"
        + (f"; its node {node} may not answer" if node else "")
        + ".",
        evidence=evidence,
        fix=f"kubectl -n {namespace} delete {kind.lower()} {name} --grace-period=0 --force",
        certainty="likely",
    )


PVC_PROTECTION = "kubernetes.io/pvc-protection"


def _users_of_claim(reading: Reading, claim: str) -> list[str]:
    """Pods that keep a claim's protection finalizer: those using it and not finished."""
    users = []
    for p in reading.objects("pods"):
        if (p.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        for v in (p.get("spec") or {}).get("volumes") or []:
            if (v.get("persistentVolumeClaim") or {}).get("claimName") == claim:
                users.append(name_of(p))
    return sorted(users)


def _on_finalizers(
    reading: Reading,
    obj: Obj,
    owners: list[ObjectRef],
    finalizers: list[str],
    evidence: list[Evidence],
    stuck_for: int,
) -> Finding:
    kind, name, namespace = str(obj.get("kind") or "Pod"), name_of(obj), reading.namespace
    evidence.append(Evidence(source="spec", text=f"finalizers: {finalizers}"))
    summary = (
        f"{kind} {name} has been deleting for {stuck_for} s: it waits for its finalizers "
        f"{', '.join(finalizers)}"
    )
    users = _users_of_claim(reading, name) if kind == "PersistentVolumeClaim" else []
    if PVC_PROTECTION in finalizers and users:
        which = ", ".join(f"Pod {u}" for u in users)
        evidence += [Evidence(source="spec", text=f"pod {u} mounts claim {name}") for u in users]
        return Finding(
            severity="warning",
            object=ref(obj, kind),
            owners=owners,
            cause="stuck-terminating-finalizers",
            summary=f"{summary}: the pvc-protection controller keeps the claim while "
            f"{which} still uses it.",
            evidence=evidence,
            fix=f"kubectl -n {namespace} delete pod {' '.join(users)} (or its owner); the "
            "claim goes once no pod uses it.",
        )
    return Finding(
        severity="error",
        object=ref(obj, kind),
        owners=owners,
        cause="stuck-terminating-finalizers",
        summary=f"{summary}, which the controller that owns them has not removed.",
        evidence=evidence,
        fix=f"Find out why the controller of {finalizers[0]} does not finish; only if it is "
        f"gone for good: kubectl -n {namespace} patch {kind.lower()} {name} --type merge -p "
        '\'{"metadata": {"finalizers": null}}\'',
    )


def _restarts(count: int) -> str:
    return f"{count} restart" if count == 1 else f"{count} restarts"


#: The proxy a service mesh injects, which runs until told to stop.
MESH_SIDECARS = ("istio-proxy",)
KATIB_TRIAL = "katib.kubeflow.org/trial"


def sidecar_keeps_running(pod: Pod) -> None:
    """A pod meant to end (a Job's, a Katib trial's, a pipeline task's) whose work ended while
    a service mesh's proxy goes on: the pod stays Running, so what owns it never completes."""
    if pod.status.get("phase") != "Running" or pod.spec.get("restartPolicy") == "Always":
        return
    statuses = pod.status.get("containerStatuses") or []
    ended = [cs for cs in statuses if (cs.get("state") or {}).get("terminated")]
    mesh = [
        str(cs.get("name"))
        for cs in statuses
        if (cs.get("state") or {}).get("running") and cs.get("name") in MESH_SIDECARS
    ]
    if not ended or not mesh:
        return
    done = ", ".join(str(cs.get("name")) for cs in ended)
    trial = ((pod.obj.get("metadata") or {}).get("labels") or {}).get(KATIB_TRIAL)
    summary = (
        f"Pod {pod.name} keeps running after {done} ended: {', '.join(mesh)} still runs, so "
        + (
            f"Katib trial {trial} never completes and its metrics are never collected."
            if trial
            else "the Job or task that owns it never completes."
        )
    )
    where = "the Experiment's trialTemplate" if trial else "the pod template"
    fix = (
        "Turn off the mesh's injection for these pods: add the annotation "
        f'sidecar.istio.io/inject: "false" to {where} (its metadata), then run it again.'
    )
    evidence = [
        Evidence(
            source="status",
            text=f"{cs.get('name')}: {_termination_text(cs['state']['terminated'])}",
        )
        for cs in ended
    ] + [Evidence(source="status", text=f"{name}: running") for name in mesh]
    pod.add("sidecar-keeps-pod-running", summary, evidence, fix)
