"""The doctor's rules above pods: claims, quotas, Jobs, Deployments and the Kubeflow kinds."""

from __future__ import annotations

import re

from .cluster import Obj
from .doctor import (
    EXPERIMENTS,
    ISVCS,
    NOTEBOOKS,
    TRIALS,
    Evidence,
    Finding,
    ObjectRef,
    Reading,
    condition,
    condition_evidence,
    conditions,
    event_evidence,
    event_message,
    name_of,
    owner_chain,
    ref,
)
from .doctor_containers import stuck_terminating

_EXCEEDED = re.compile(
    r"exceeded quota: ([^,]+), requested: ([^,]+(?:,[^,:]+=[^,]+)*), used: (.+?), limited: (.+)$"
)
_MUST_SPECIFY = re.compile(r"(?:failed quota: ([^:]+): )?must specify ([a-z.,]+)")
_FOR = re.compile(r"([a-z]+\.[a-z0-9./-]+) for: ([^;]+)")
_LIMIT_RANGE = re.compile(
    r"(maximum|minimum) (\S+) usage per (Container|Pod) is (\S+), but (?:limit|request) is (\S+)"
)
_DEFAULT_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
#: Normal events about a claim that still say why it is not bound.
_WHY = ("FailedBinding", "WaitForFirstConsumer", "ExternalProvisioning", "WaitForPodScheduled")


# -- claims --------------------------------------------------------------------------------


def diagnose_claim(reading: Reading, pvc: Obj) -> list[Finding]:
    """Why a PersistentVolumeClaim stays Pending; [] when bound."""
    if (pvc.get("status") or {}).get("phase") == "Bound":
        return []
    name, namespace = name_of(pvc), reading.namespace
    spec = pvc.get("spec") or {}
    events = reading.events_about(pvc)
    # The PV controller reports FailedBinding as a Normal event (it may bind later); the
    # provisioners' ProvisioningFailed is a Warning. Both say why the claim waits.
    evidence = [
        event_evidence(e)
        for e in [e for e in events if e.get("type") == "Warning" or e.get("reason") in _WHY][-2:]
    ]
    evidence.insert(
        0,
        Evidence(
            source="status", text=f"phase {(pvc.get('status') or {}).get('phase', 'Pending')}"
        ),
    )
    me = ObjectRef(kind="PersistentVolumeClaim", name=name)
    class_name = spec.get("storageClassName")
    classes = reading.objects("storageclasses") if reading.readable("storageclasses") else None

    def finding(cause: str, summary: str, fix: str, certainty: str = "certain") -> list[Finding]:
        return [
            Finding(
                severity="error",
                object=me,
                cause=cause,
                summary=summary,
                evidence=evidence,
                fix=fix,
                certainty=certainty,  # type: ignore[arg-type]
            )
        ]

    if class_name is None:
        # Had the cluster a default StorageClass when the claim was made, the API server
        # would have written its name into the claim; none there means there was none.
        evidence.append(Evidence(source="spec", text="storageClassName: (not set)"))
        default_now = ""
        listed = ""
        if classes is not None:
            defaults = [name_of(c) for c in classes if _is_default(c)]
            listed = f" (StorageClasses: {', '.join(name_of(c) for c in classes) or 'none'}; "
            listed += f"default now: {defaults[0]})" if defaults else "still no default)"
            default_now = defaults[0] if defaults else ""
        use = default_now or (name_of(classes[0]) if classes else "CLASS")
        return finding(
            "unbound-claim-no-default-class",
            f"Claim {name} names no StorageClass and none was filled in when it was created, so "
            f"the cluster had no default StorageClass: no volume will ever be provisioned for "
            f"it{listed}.",
            f"Set storageClassName on the claim and create it again (kubectl -n {namespace} get "
            f"pvc {name} -o yaml > {name}.yaml, add spec.storageClassName: {use}, kubectl -n "
            f"{namespace} delete pvc {name} && kubectl apply -f {name}.yaml), or ask an "
            "administrator to mark a StorageClass as default (kubectl patch storageclass NAME -p "
            '\'{"metadata": {"annotations": {"storageclass.kubernetes.io/is-default-class": '
            '"true"}}}\').',
        )
    evidence.append(Evidence(source="spec", text=f"storageClassName: {class_name!r}"))
    if class_name == "":
        return _static_binding(reading, pvc, finding)
    if classes is not None:
        sc = next((c for c in classes if name_of(c) == class_name), None)
        if sc is None:
            names = ", ".join(name_of(c) for c in classes) or "none"
            return finding(
                "unbound-claim-class-missing",
                f"Claim {name} asks for StorageClass {class_name!r}, which does not exist "
                f"(StorageClasses: {names}).",
                f"Create the claim again with an existing storageClassName ({names}), or ask an "
                f"administrator to create StorageClass {class_name}.",
            )
        if sc.get("volumeBindingMode") == "WaitForFirstConsumer" and not any(
            e.get("reason") == "ProvisioningFailed" for e in events
        ):
            return []  # bound when the first pod using it is scheduled
        if sc.get("provisioner") == "kubernetes.io/no-provisioner":
            return _static_binding(reading, pvc, finding)
    failed = [e for e in events if e.get("reason") == "ProvisioningFailed"]
    if failed:
        message = event_message(failed[-1])
        if "not found" in message and "storageclass" in message.lower():
            return finding(
                "unbound-claim-class-missing",
                f"Claim {name} asks for StorageClass {class_name!r}, which does not exist.",
                f"Create the claim again with an existing storageClassName, or ask an "
                f"administrator to create StorageClass {class_name}.",
            )
        return finding(
            "provisioning-failed",
            f"The provisioner of StorageClass {class_name!r} fails to make a volume for claim "
            f"{name}: {message}",
            "Read the provisioner's message; the administrator of the StorageClass can fix it.",
        )
    waiting = [e for e in events if e.get("reason") == "ExternalProvisioning"]
    if classes is None:
        return finding(
            "unbound-claim-class-unchecked",
            f"Claim {name} waits for a volume of StorageClass {class_name!r}; this identity "
            "cannot read StorageClasses to check that the class exists and its provisioner runs.",
            f"Ask an administrator whether StorageClass {class_name} exists (kubectl get "
            "storageclass) and its provisioner runs.",
            certainty="likely",
        )
    return finding(
        "provisioner-not-acting",
        f"Claim {name} waits for the provisioner of StorageClass {class_name!r}, which has not "
        "made a volume" + (": " + event_message(waiting[-1]) if waiting else "."),
        f"Ask an administrator to check that the provisioner of StorageClass {class_name} runs.",
        certainty="likely",
    )


def _is_default(sc: Obj) -> bool:
    annotations = (sc.get("metadata") or {}).get("annotations") or {}
    return str(annotations.get(_DEFAULT_ANNOTATION, "")).lower() == "true"


def _static_binding(reading: Reading, pvc: Obj, finding: object) -> list[Finding]:
    name, spec = name_of(pvc), pvc.get("spec") or {}
    make = finding  # (cause, summary, fix, certainty) -> list[Finding]
    modes = set(spec.get("accessModes") or [])
    if not reading.readable("persistentvolumes"):
        return make(  # type: ignore[operator, no-any-return]
            "unbound-claim-no-matching-pv",
            f"Claim {name} waits for a pre-made PersistentVolume; this identity cannot read "
            "volumes to say whether one matches.",
            "Ask an administrator to create a PersistentVolume matching the claim's class, size "
            "and access modes.",
            "likely",
        )
    free = [
        v
        for v in reading.objects("persistentvolumes")
        if (v.get("status") or {}).get("phase") == "Available"
        and (v.get("spec") or {}).get("storageClassName", "")
        == (spec.get("storageClassName") or "")
    ]
    if free and not any(modes <= set((v.get("spec") or {}).get("accessModes") or []) for v in free):
        offered = sorted({m for v in free for m in (v.get("spec") or {}).get("accessModes") or []})
        return make(  # type: ignore[operator, no-any-return]
            "unbound-claim-access-mode",
            f"Claim {name} asks for access modes {sorted(modes)}, but the free volumes offer "
            f"only {offered}.",
            f"Create the claim again with accessModes {offered[:1]}, or ask for a volume that "
            f"supports {sorted(modes)}.",
        )
    return make(  # type: ignore[operator, no-any-return]
        "unbound-claim-no-matching-pv",
        f"Claim {name} waits for a pre-made PersistentVolume and no free one matches its class, "
        "size and access modes.",
        "Ask an administrator to create a matching PersistentVolume, or use a StorageClass with "
        "a provisioner.",
    )


# -- quota and limits on the owner's FailedCreate --------------------------------------------


def failed_create(reading: Reading, obj: Obj, kind: str) -> list[Finding]:
    """Pods the controller may not create: quota exceeded, a request missing, a LimitRange."""
    texts: list[tuple[str, Evidence]] = []
    for c in conditions(obj):
        if c.get("type") in ("ReplicaFailure", "FailedCreate") and c.get("status") == "True":
            texts.append((str(c.get("message") or ""), condition_evidence(c)))
    quoted = len(texts)
    for e in reading.events_about(obj):
        if e.get("reason") == "FailedCreate":
            texts.append((event_message(e), event_evidence(e)))
    if not texts:
        return []
    message, _ = texts[-1]
    # The controller's condition (it stays while the failure lasts) and its latest event (a
    # controller repeats FailedCreate on every retry; the event recorder combines them).
    evidence = [ev for _, ev in texts[:quoted][-1:]] + [ev for _, ev in texts[quoted:][-1:]]
    name, namespace = name_of(obj), reading.namespace
    owners = owner_chain(reading, obj)
    edit = _editable(kind, name, owners)

    def one(cause: str, summary: str, fix: str) -> list[Finding]:
        return [
            Finding(
                severity="error",
                object=ObjectRef(kind=kind, name=name),
                owners=owners,
                cause=cause,
                summary=summary,
                evidence=evidence,
                fix=fix,
            )
        ]

    exceeded = _EXCEEDED.search(message)
    if exceeded:
        quota, requested, used, limited = (g.strip() for g in exceeded.groups())
        figures = _quota_figures(reading, quota)
        if figures:
            evidence.append(Evidence(source="status", text=figures))
        return one(
            "quota-exceeded",
            f"{kind} {name} cannot create pods: ResourceQuota {quota} would be exceeded "
            f"(requested {requested}, used {used}, limited {limited}).",
            f"Ask for less in {edit} (kubectl -n {namespace} set resources {edit} "
            "--requests=...), free quota by deleting pods you no longer need (kubectl -n "
            f"{namespace} describe resourcequota {quota} shows what is used), or ask an "
            f"administrator to raise quota {quota}.",
        )
    must = _MUST_SPECIFY.search(message)
    if must:
        quota = (must.group(1) or "").strip()
        pairs = _FOR.findall(message)  # 1.29+: "limits.cpu for: main; requests.cpu for: main"
        fields = [f for f, _ in pairs] or [
            f.strip() for f in must.group(2).split(",") if "." in f.strip()
        ]
        containers = sorted({c.strip() for _, cs in pairs for c in cs.split(",") if c.strip()})
        flags = " ".join(
            f"--{f.split('.')[0]}={f.split('.', 1)[1]}=VALUE" for f in sorted(set(fields))
        )
        return one(
            "quota-missing-request",
            f"{kind} {name} cannot create pods: the namespace has a ResourceQuota"
            + (f" ({quota})" if quota else "")
            + f" on {', '.join(dict.fromkeys(fields))}, so every container must set them, and "
            + (
                f"container {', '.join(containers)} does not."
                if containers
                else "its containers do not."
            ),
            f"kubectl -n {namespace} set resources {edit}"
            + (f" -c {containers[0]}" if containers else "")
            + f" {flags} (or ask an administrator for a LimitRange that sets defaults).",
        )
    limit = _LIMIT_RANGE.search(message)
    if limit:
        bound, resource, per, allowed, asked = limit.groups()
        return one(
            "limitrange-violation",
            f"{kind} {name} cannot create pods: the namespace's LimitRange allows a {bound} of "
            f"{allowed} {resource} per {per}, and the pod asks {asked}.",
            f"Set {resource} within the LimitRange in {edit} (kubectl -n {namespace} set "
            f"resources {edit} ...), or ask an administrator to change the LimitRange.",
        )
    return one(
        "failed-create",
        f"{kind} {name} cannot create its pods: {message}",
        "Read the controller's message: admission refused the pod.",
    )


def _editable(kind: str, name: str, owners: list[ObjectRef]) -> str:
    for owner in owners:
        if owner.kind in ("Deployment", "StatefulSet"):
            return f"{owner.kind.lower()}/{owner.name}"
    return f"{kind.lower()}/{name}"


def _quota_figures(reading: Reading, quota: str) -> str:
    if not reading.readable("resourcequotas"):
        return ""
    found = reading.by_name("resourcequotas", quota)
    if found is None:
        return ""
    status = found.get("status") or {}
    hard, used = status.get("hard") or {}, status.get("used") or {}
    return f"ResourceQuota {quota}: " + ", ".join(
        f"{k} used {used.get(k, '0')} of {v}" for k, v in sorted(hard.items())
    )


# -- workloads and Kubeflow kinds ------------------------------------------------------------


def diagnose_workloads(reading: Reading, pod_findings: list[Finding]) -> list[Finding]:
    """Findings of everything above pods, given the pods' own findings."""
    found: list[Finding] = []
    rs_failed: set[str] = set()
    for rs in reading.objects("replicasets"):
        if int((rs.get("spec") or {}).get("replicas") or 0) == 0:
            continue
        more = failed_create(reading, rs, "ReplicaSet")
        if more:
            rs_failed.update(o.name for f in more for o in f.owners if o.kind == "Deployment")
        found += more
    for sts in reading.objects("statefulsets"):
        found += failed_create(reading, sts, "StatefulSet")
    for deploy in reading.objects("deployments"):
        found += deployment(
            reading, deploy, pod_findings, skip_replica_failure=name_of(deploy) in rs_failed
        )
    for job in reading.objects("jobs"):
        found += failed_create(reading, job, "Job") + job_failed(reading, job, pod_findings)
    for pvc in reading.objects("persistentvolumeclaims"):
        pvc.setdefault("kind", "PersistentVolumeClaim")
        found += diagnose_claim(reading, pvc)
    for isvc in reading.objects(ISVCS):
        found += not_ready(reading, isvc, "InferenceService", pod_findings + found)
    for notebook in reading.objects(NOTEBOOKS):
        found += notebook_not_starting(reading, notebook, pod_findings + found)
    for trial in reading.objects(TRIALS):
        found += katib(reading, trial, "Trial")
    for experiment in reading.objects(EXPERIMENTS):
        found += katib(reading, experiment, "Experiment")
    for plural, kind in (
        ("persistentvolumeclaims", "PersistentVolumeClaim"),
        ("deployments", "Deployment"),
        ("statefulsets", "StatefulSet"),
        ("jobs", "Job"),
        (NOTEBOOKS, "Notebook"),
        (ISVCS, "InferenceService"),
    ):
        for obj in reading.objects(plural):
            obj.setdefault("kind", kind)
            stuck = stuck_terminating(reading, obj, [])
            if stuck is not None:
                found.append(stuck)
    return found


def deployment(
    reading: Reading, deploy: Obj, pod_findings: list[Finding], *, skip_replica_failure: bool
) -> list[Finding]:
    name = name_of(deploy)
    found: list[Finding] = []
    progressing = condition(deploy, "Progressing")
    failure = condition(deploy, "ReplicaFailure")
    if failure is not None and failure.get("status") == "True" and not skip_replica_failure:
        found += failed_create(reading, deploy, "Deployment")
    if progressing is not None and progressing.get("status") == "False":
        pods = [
            f
            for f in pod_findings
            if any(o.kind == "Deployment" and o.name == name for o in f.owners)
        ]
        because = f" Its pods: {pods[0].summary}" if pods else ""
        found.append(
            Finding(
                severity="error",
                object=ObjectRef(kind="Deployment", name=name),
                cause="deployment-not-progressing",
                summary=f"Deployment {name} is not progressing: "
                f"{str(progressing.get('message') or '').rstrip('.')} "
                f"({progressing.get('reason')}).{because}",
                evidence=[condition_evidence(progressing), *(pods[0].evidence[:3] if pods else [])],
                fix=pods[0].fix
                if pods
                else f"kubectl -n {reading.namespace} rollout status deployment/{name}; "
                f"kubectl -n {reading.namespace} rollout undo deployment/{name} returns to the "
                "last version that worked.",
            )
        )
    return found


def job_failed(reading: Reading, job: Obj, pod_findings: list[Finding]) -> list[Finding]:
    failed = condition(job, "Failed")
    if failed is None or failed.get("status") != "True":
        return []
    name, spec = name_of(job), job.get("spec") or {}
    reason = str(failed.get("reason") or "")
    pods = [f for f in pod_findings if any(o.kind == "Job" and o.name == name for o in f.owners)]
    because = f" Its last failed pod: {pods[-1].summary}" if pods else ""
    if reason == "BackoffLimitExceeded":
        cause = "job-backoff-limit"
        what = (
            f"its pods failed {(job.get('status') or {}).get('failed', '?')} times, past "
            f"backoffLimit {spec.get('backoffLimit', 6)}"
        )
    elif reason == "DeadlineExceeded":
        cause = "job-deadline-exceeded"
        what = f"it ran longer than activeDeadlineSeconds {spec.get('activeDeadlineSeconds')}"
    else:
        cause, what = "job-failed", f"{reason}: {failed.get('message')}"
    fix = (pods[-1].fix + "; then " if pods else "") + (
        f"run it again: kubectl -n {reading.namespace} get job {name} -o yaml > {name}.yaml, "
        f"kubectl -n {reading.namespace} delete job {name} && kubectl apply -f {name}.yaml"
    )
    if cause == "job-deadline-exceeded" and not pods:
        fix = f"Raise spec.activeDeadlineSeconds of Job {name}, or make the work faster; " + fix
    return [
        Finding(
            severity="error",
            object=ObjectRef(kind="Job", name=name),
            owners=owner_chain(reading, job),
            cause=cause,
            summary=f"Job {name} failed: {what}.{because}",
            evidence=[condition_evidence(failed), *(pods[-1].evidence[:3] if pods else [])],
            fix=fix,
        )
    ]


def not_ready(reading: Reading, obj: Obj, kind: str, known: list[Finding]) -> list[Finding]:
    ready = condition(obj, "Ready")
    if ready is not None and ready.get("status") == "True":
        return []
    if ready is None and not conditions(obj):
        return []  # just created: the controller has not looked at it yet
    name = name_of(obj)
    below = [f for f in known if any(o.kind == kind and o.name == name for o in f.owners)]
    evidence = [condition_evidence(ready)] if ready else []
    if below:
        first = below[0]
        return [
            Finding(
                severity="error",
                object=ObjectRef(kind=kind, name=name),
                cause=f"{kind.lower()}-not-ready",
                summary=f"{kind} {name} is not Ready because of its {first.object.kind.lower()} "
                f"{first.object.name}: {first.summary}",
                evidence=[*evidence, *first.evidence[:4]],
                fix=first.fix,
                certainty=first.certainty,
            )
        ]
    bad = [
        c
        for c in conditions(obj)
        if c.get("status") == "False" and (c.get("message") or c.get("reason"))
    ]
    said = bad[0] if bad else (ready or {})
    # A controller may give only a reason (KServe's RevisionMissing): quote what there is.
    message = (
        f"{said.get('type')} {said.get('reason')}" if not said.get("message") and said else ""
    ) or str(said.get("message") or "no reason given")
    return [
        Finding(
            severity="error",
            object=ObjectRef(kind=kind, name=name),
            cause=f"{kind.lower()}-not-ready",
            summary=f"{kind} {name} is not Ready: {message}",
            evidence=[*evidence, *(condition_evidence(c) for c in bad[:2])],
            fix=f"kubectl -n {reading.namespace} describe {kind.lower()} {name}; the condition "
            "names the component that fails.",
            certainty="likely",
        )
    ]


def notebook_not_starting(reading: Reading, notebook: Obj, known: list[Finding]) -> list[Finding]:
    status = notebook.get("status") or {}
    if int(status.get("readyReplicas") or 0) > 0:
        return []
    name = name_of(notebook)
    below = [f for f in known if any(o.kind == "Notebook" and o.name == name for o in f.owners)]
    below += [f for f in known if f.object.kind == "StatefulSet" and f.object.name == name]
    if not below:
        return []
    first = below[0]
    return [
        Finding(
            severity="error",
            object=ObjectRef(kind="Notebook", name=name),
            cause="notebook-not-starting",
            summary=f"Notebook {name} does not start: {first.summary}",
            evidence=first.evidence[:4],
            fix=first.fix,
            certainty=first.certainty,
        )
    ]


def katib(reading: Reading, obj: Obj, kind: str) -> list[Finding]:
    name = name_of(obj)
    for type_ in ("Failed", "MetricsUnavailable"):
        c = condition(obj, type_)
        if c is None or c.get("status") != "True":
            continue
        no_metrics = type_ == "MetricsUnavailable" or "metric" in str(c.get("message", "")).lower()
        return [
            Finding(
                severity="error",
                object=ref(obj, kind),
                owners=owner_chain(reading, obj),
                cause="katib-trial-no-metrics" if no_metrics else f"katib-{kind.lower()}-failed",
                summary=f"{kind} {name} "
                + ("reported no metrics" if no_metrics else "failed")
                + f": {c.get('reason')}: {c.get('message')}",
                evidence=[condition_evidence(c)],
                fix="Print the objective metric as the metrics collector expects it (e.g. "
                "'accuracy=0.93' on its own line for the StdOut collector), with the exact name "
                "of the Experiment's objectiveMetricName."
                if no_metrics
                else f"kubectl -n {reading.namespace} describe {kind.lower()} {name}; read the "
                "trial pods' logs.",
            )
        ]
    return []
