"""The Job manifest: contract env, secrets by reference, scratch volumes, limits, no retries."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from trainer_contract.env import ENV_VARS, is_secret_name
from trainer_contract.job_lifecycle import TERMINATION_GRACE_SECONDS
from trainer_contract.lint_rules import ENTRY_ARGS, ENTRY_SCRIPT, PYTHON_EXECUTABLES
from trainer_tools.k8s.distributed import headless_service, torchrun_command, torchrun_env
from trainer_tools.k8s.env_values import (
    contract_values,
    hidden_credentials,
    left_to_config,
    unset_variables,
)

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_QUANTITY = re.compile(r"^([0-9]+(\.[0-9]+)?|\.[0-9]+)(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_GPU_RESOURCE = "nvidia.com/gpu"
_CONTAINER = "trainer"


class ManifestError(ValueError):
    """An option the manifest cannot be built from; the message names it and the fix."""


@dataclass(frozen=True)
class JobSpec:
    """Everything the manifest depends on (the command line, checked)."""

    image: str
    job_id: str
    env: Mapping[str, str] = field(default_factory=dict)  # contract variables given
    name: str | None = None  # default trainer-job-<job id>
    namespace: str | None = None
    secret_name: str = "trainer-secrets"
    gpus: int = 0
    nodes: int = 1
    torchrun: bool = False  # start torchrun on a single node too
    cpu: str = "4"
    memory: str = "16Gi"
    shm_size: str = "2Gi"
    ephemeral_storage: str | None = None
    entry_point: str = ENTRY_SCRIPT  # the process contract: `python train.py`
    master_port: int = 29500
    run_as_user: int = 1000
    service_account: str | None = None
    image_pull_secrets: tuple[str, ...] = ()
    node_selector: Mapping[str, str] = field(default_factory=dict)
    ttl_seconds: int | None = 86400
    deadline_seconds: int | None = None
    extra_env: Mapping[str, str] = field(default_factory=dict)
    """Variables the contract does not define (`--env WANDB_PROJECT=x`); a secret-looking name
    (`WANDB_API_KEY`) is read from the Secret instead, its value never written."""

    @property
    def job_name(self) -> str:
        """The Job's name (and the Service's, for several nodes)."""
        return self.name or f"trainer-job-{self.job_id}"


def _check(spec: JobSpec) -> None:
    if not spec.image or any(ch.isspace() for ch in spec.image):
        raise ManifestError(f"--image {spec.image!r} is not an image reference (e.g. repo/img:tag)")
    if spec.gpus < 0:
        raise ManifestError(f"--gpus {spec.gpus}: must be 0 (CPU) or more")
    if spec.nodes < 1:
        raise ManifestError(f"--nodes {spec.nodes}: must be 1 or more")
    # An Indexed Job's pods are named <job>-<index>, and that must stay a DNS label too.
    longest = spec.job_name + (f"-{spec.nodes - 1}" if spec.nodes > 1 else "")
    if len(longest) > 63 or not _DNS_LABEL.match(spec.job_name):
        raise ManifestError(
            f"--name {spec.job_name!r}: a Job name must be lower-case letters, digits and '-', "
            f"at most {63 - (len(longest) - len(spec.job_name))} characters here"
        )
    for option, value in (
        ("--cpu", spec.cpu),
        ("--memory", spec.memory),
        ("--shm-size", spec.shm_size),
        ("--ephemeral-storage", spec.ephemeral_storage),
    ):
        if value is not None and not _QUANTITY.match(value):
            raise ManifestError(f"{option} {value!r} is not a Kubernetes quantity (4, 500m, 16Gi)")
    if not _DNS_LABEL.match(spec.secret_name):
        raise ManifestError(f"--secret {spec.secret_name!r} is not a valid Secret name")
    if not 1 <= spec.master_port <= 65535:
        raise ManifestError(f"--master-port {spec.master_port}: must be a TCP port")
    for name in spec.extra_env:
        if not _ENV_NAME.match(name):
            raise ManifestError(
                f"--env {name!r}: not an environment variable name (letters, digits, '_'; "
                "not starting with a digit)"
            )
        if name in ENV_VARS:
            flag = "--" + name.lower().replace("_", "-")
            raise ManifestError(
                f"--env {name}: a contract variable; give it with {flag} (or --set {name}=...), "
                "which checks its value against the contract"
            )


def _config_keys(given: Mapping[str, str]) -> set[str]:
    """The keys of the CONFIG given (none when it is not a JSON object: checked later)."""
    try:
        value = json.loads(given.get("CONFIG", "{}"))
    except ValueError:
        return set()
    return set(value) if isinstance(value, dict) else set()


def _env(spec: JobSpec) -> list[dict[str, Any]]:
    given = {"JOB_ID": spec.job_id, **spec.env}
    # The device follows the GPUs asked for ("cpu", or "0,1,..."), unless the job says which:
    # by its variable, or by its key in CONFIG.
    device_var = next((v for v in ENV_VARS.values() if v.basic_key == "device"), None)
    if (
        device_var is not None
        and device_var.name not in given
        and device_var.config_key not in _config_keys(given)
    ):
        given[device_var.name] = ",".join(str(i) for i in range(spec.gpus)) if spec.gpus else "cpu"
    values = contract_values(given)
    missing = [name for name, var in ENV_VARS.items() if var.required and name not in values]
    if missing:
        flags = ", ".join("--" + name.lower().replace("_", "-") for name in missing)
        raise ManifestError(f"{', '.join(missing)} required: pass {flags}")
    entries: list[dict[str, Any]] = []
    for name, var in ENV_VARS.items():
        if name in values and hidden_credentials(name, values[name]):
            # A URL with user:password@ or a CONFIG holding an API key is a secret too: the
            # manifest (often committed, always readable with `kubectl get job -o yaml`) only
            # names it; the value goes into the Secret under the variable's name.
            entries.append(
                {
                    "name": name,
                    "valueFrom": {"secretKeyRef": {"name": spec.secret_name, "key": name}},
                }
            )
        elif name in values:
            entries.append({"name": name, "value": values[name]})
        elif var.secret:
            # Never inline: the pod reads the value from the Secret at start. A secret without a
            # default (a token) is optional; a storage key is not, so a pod never silently
            # falls back to a default credential.
            reference: dict[str, Any] = {"name": spec.secret_name, "key": name}
            if var.default is None and not var.required:
                reference["optional"] = True
            entries.append({"name": name, "valueFrom": {"secretKeyRef": reference}})
    for name, value in spec.extra_env.items():
        if is_secret_name(name):
            ref = {"name": spec.secret_name, "key": name}
            entries.append({"name": name, "valueFrom": {"secretKeyRef": ref}})
        else:
            entries.append({"name": name, "value": value})
    return entries


def _scratch_volumes(spec: JobSpec) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """emptyDir volumes at the contract's scratch paths (TMP_DIR, WORK_DIR), and /dev/shm."""
    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    for var in ENV_VARS.values():
        if var.group != "paths" or var.type != "path":
            continue
        path = spec.env.get(var.name, str(var.default))
        volume = var.name.lower().replace("_", "-")
        volumes.append({"name": volume, "emptyDir": {}})
        mounts.append({"name": volume, "mountPath": path})
    # PyTorch data-loader workers share batches through /dev/shm; the runtime's 64 MiB is not
    # enough for images, so it gets a memory-backed volume.
    volumes.append({"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": spec.shm_size}})
    mounts.append({"name": "dshm", "mountPath": "/dev/shm"})
    return volumes, mounts


def _resources(spec: JobSpec) -> dict[str, Any]:
    amounts: dict[str, Any] = {"cpu": spec.cpu, "memory": spec.memory}
    if spec.ephemeral_storage:
        amounts["ephemeral-storage"] = spec.ephemeral_storage
    if spec.gpus:
        amounts[_GPU_RESOURCE] = spec.gpus
    # Requests equal limits: a training pod should not be throttled or evicted midway.
    return {"requests": dict(amounts), "limits": dict(amounts)}


def build_manifests(spec: JobSpec) -> list[dict[str, Any]]:
    """The Job, preceded by its headless Service when it spans several nodes."""
    _check(spec)
    name = spec.job_name
    labels = {
        "app.kubernetes.io/name": "trainer",
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/managed-by": "trainer-sdk",
        "trainer-sdk/job-id": spec.job_id,
    }
    volumes, mounts = _scratch_volumes(spec)
    container: dict[str, Any] = {"name": _CONTAINER, "image": spec.image}
    processes = max(spec.gpus, 1)
    env = _env(spec)
    # The command line of the platform's Kubernetes manager: `python train.py --log-level INFO`
    # (lifecycle.json `entry_args`), so a trainer that would reject the argument fails here too.
    if spec.nodes > 1 or spec.torchrun:
        command = torchrun_command(spec.entry_point, standalone=spec.nodes == 1)
        container["command"] = [*command, *ENTRY_ARGS]
        env += torchrun_env(name, spec.nodes, processes, spec.master_port)
    else:
        container["command"] = [PYTHON_EXECUTABLES[0]]
        container["args"] = [spec.entry_point, *ENTRY_ARGS]
    container.update(
        {
            "env": env,
            "resources": _resources(spec),
            "volumeMounts": mounts,
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]},
            },
        }
    )
    if spec.nodes > 1:
        container["ports"] = [{"name": "rendezvous", "containerPort": spec.master_port}]
    pod: dict[str, Any] = {
        "restartPolicy": "Never",
        # SIGTERM, then SIGKILL after this long: the SDK's run() reports the stop within
        # FINAL_REPORT_SECONDS of the signal, inside this grace period (lifecycle.json).
        "terminationGracePeriodSeconds": TERMINATION_GRACE_SECONDS,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": spec.run_as_user,
            "runAsGroup": spec.run_as_user,
            "fsGroup": spec.run_as_user,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": volumes,
    }
    if spec.nodes > 1:
        pod["subdomain"] = name
    if spec.service_account:
        pod["serviceAccountName"] = spec.service_account
    if spec.image_pull_secrets:
        pod["imagePullSecrets"] = [{"name": s} for s in spec.image_pull_secrets]
    if spec.node_selector:
        pod["nodeSelector"] = dict(spec.node_selector)
    if spec.gpus:
        pod["tolerations"] = [{"key": _GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}]
    job_spec: dict[str, Any] = {
        # The platform reads the exit code of one attempt: no retries, ever.
        "backoffLimit": 0,
        "template": {"metadata": {"labels": dict(labels)}, "spec": pod},
    }
    if spec.nodes > 1:
        job_spec.update(
            {"completionMode": "Indexed", "completions": spec.nodes, "parallelism": spec.nodes}
        )
    if spec.ttl_seconds is not None:
        job_spec["ttlSecondsAfterFinished"] = spec.ttl_seconds
    if spec.deadline_seconds is not None:
        job_spec["activeDeadlineSeconds"] = spec.deadline_seconds
    metadata: dict[str, Any] = {"name": name, "labels": labels}
    if spec.namespace:
        metadata["namespace"] = spec.namespace
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata, "spec": job_spec}
    if spec.nodes > 1:
        return [headless_service(name, spec.namespace, labels, spec.master_port), job]
    return [job]


def _header(spec: JobSpec, manifests: list[dict[str, Any]]) -> list[str]:
    job = manifests[-1]
    env = job["spec"]["template"]["spec"]["containers"][0]["env"]
    secrets = [e["name"] for e in env if "secretKeyRef" in e.get("valueFrom", {})]
    set_names = {e["name"] for e in env}
    namespace = f" -n {shlex.quote(spec.namespace)}" if spec.namespace else ""
    literal = " ".join(f"--from-literal={s}=..." for s in secrets)
    lines = [
        f"# Kubernetes Job for training job {spec.job_id}, rendered by `trainer-sdk k8s-job` "
        "from the env contract.",
        f"# Secrets come from the Secret {spec.secret_name!r}; create it first:",
        f"#   kubectl{namespace} create secret generic {spec.secret_name} {literal}",
    ]
    given = {n: "" for n in set_names}
    unset = unset_variables(given)
    if unset:
        lines.append(f"# Not set (no value given, no default): {', '.join(unset)}.")
    from_config = left_to_config(given)
    if from_config:
        lines.append(
            f"# Left to CONFIG, then the contract's defaults: {', '.join(from_config)} "
            "(set one only to override CONFIG)."
        )
    if spec.nodes > 1:
        lines.append(
            f"# {spec.nodes} nodes x {max(spec.gpus, 1)} processes: an Indexed Job running "
            f"torchrun; pod 0 ({spec.job_name}-0.{spec.job_name}) is the rendezvous."
        )
    return lines


def render_json(spec: JobSpec) -> str:
    """The manifests as JSON, as `kubectl get -o json` prints them: the object, or a `List` of
    them (several nodes: the Service and the Job). JSON has no comments: `secret_help` says
    how to create the Secret."""
    manifests = build_manifests(spec)
    document: dict[str, Any] = (
        manifests[0]
        if len(manifests) == 1
        else {"apiVersion": "v1", "kind": "List", "items": manifests}
    )
    return json.dumps(document, indent=2) + "\n"


def secret_help(spec: JobSpec) -> str:
    """The comment lines `render_yaml` starts with (how to create the Secret, what is unset)."""
    return "\n".join(_header(spec, build_manifests(spec))) + "\n"


def render_yaml(spec: JobSpec) -> str:
    """The manifests as YAML documents, after a comment saying how to create the Secret."""
    manifests = build_manifests(spec)
    documents = [
        yaml.safe_dump(m, sort_keys=False, default_flow_style=False, width=100) for m in manifests
    ]
    return "\n".join(_header(spec, manifests)) + "\n" + "---\n".join(documents)
