"""Kubernetes Job manifests for a trainer image, rendered from the env contract.

`trainer-sdk k8s-job --image IMG --job-id N ...` (see `trainer_tools.commands.k8s_job`) builds a
`JobSpec` from the command line, `build_manifests` turns it into a Job (and, for several nodes, the
headless Service that lets the pods find each other), `render_yaml` prints them. Every contract
variable comes from `trainer_contract.env.ENV_VARS`; secrets only ever come from a Secret.
"""

from __future__ import annotations

from trainer_tools.k8s.env_values import ContractValueError, contract_values
from trainer_tools.k8s.manifest import (
    JobSpec,
    ManifestError,
    build_manifests,
    render_json,
    render_yaml,
    secret_help,
)

__all__ = [
    "ContractValueError",
    "JobSpec",
    "ManifestError",
    "build_manifests",
    "contract_values",
    "render_json",
    "render_yaml",
    "secret_help",
]
