"""Several pods, one training: an Indexed Job whose pods start torchrun and meet at pod 0.

The scheme: the Job runs `--nodes` pods (`completionMode: Indexed`); a headless Service of the
same name gives each pod a DNS name `<job>-<index>.<job>`; every pod runs torchrun with
`--node-rank` = its completion index, `--master-addr` = pod 0's name. torchrun then sets the
contract's RANK, LOCAL_RANK and WORLD_SIZE in every training process, and the SDK lets only
rank 0 speak for the job.
"""

from __future__ import annotations

from typing import Any

# torchrun's own settings (PyTorch's names, not the platform contract's).
TORCHRUN_ENV = ("NNODES", "NPROC_PER_NODE", "NODE_RANK", "MASTER_ADDR", "MASTER_PORT")
# The annotation Kubernetes puts on every pod of an Indexed Job.
COMPLETION_INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"


def torchrun_command(entry_point: str, *, standalone: bool) -> list[str]:
    """The container command; `$(VAR)` is expanded by Kubernetes from the container's env."""
    if standalone:
        return ["torchrun", "--standalone", "--nproc-per-node=$(NPROC_PER_NODE)", entry_point]
    return [
        "torchrun",
        "--nnodes=$(NNODES)",
        "--nproc-per-node=$(NPROC_PER_NODE)",
        "--node-rank=$(NODE_RANK)",
        "--master-addr=$(MASTER_ADDR)",
        "--master-port=$(MASTER_PORT)",
        entry_point,
    ]


def torchrun_env(name: str, nodes: int, processes: int, port: int) -> list[dict[str, Any]]:
    """The env entries torchrun reads; for one node only the process count."""
    if nodes == 1:
        return [{"name": "NPROC_PER_NODE", "value": str(processes)}]
    return [
        {"name": "NNODES", "value": str(nodes)},
        {"name": "NPROC_PER_NODE", "value": str(processes)},
        {
            "name": "NODE_RANK",
            "valueFrom": {
                "fieldRef": {"fieldPath": f"metadata.annotations['{COMPLETION_INDEX_ANNOTATION}']"}
            },
        },
        # Pod 0 of the Indexed Job, through the headless Service (same namespace).
        {"name": "MASTER_ADDR", "value": f"{name}-0.{name}"},
        {"name": "MASTER_PORT", "value": str(port)},
    ]


def headless_service(
    name: str, namespace: str | None, labels: dict[str, str], port: int
) -> dict[str, Any]:
    """The Service that gives every pod of the Job a stable DNS name."""
    metadata: dict[str, Any] = {"name": name, "labels": dict(labels)}
    if namespace:
        metadata["namespace"] = namespace
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata,
        "spec": {
            "clusterIP": "None",
            # Rendezvous happens before any pod is "ready": resolve them anyway.
            "publishNotReadyAddresses": True,
            "selector": dict(labels),
            "ports": [{"name": "rendezvous", "port": port, "targetPort": port}],
        },
    }
