"""`trainer-sdk k8s-job`: print the Kubernetes Job manifest that runs a trainer image.

Every contract variable that is not a secret has its own option, made from the env schema
(`JOB_ID` -> `--job-id`, `EPOCHS` -> `--epochs`, ...); `--set NAME=VALUE` is the same for any
name. Secrets are never options: the manifest reads them from a Secret. `--env NAME=VALUE` adds
variables the contract does not define (W&B, Hugging Face, ...); a secret-looking name goes to
the Secret. As with kubectl, `-o yaml|json` selects the format and the manifest goes to stdout;
`--output-file` writes a file instead. Exit codes: 0 printed, 1 an option is wrong (the message
names it and the fix).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trainer_contract.env import ENV_VARS, EnvVar
from trainer_contract.validators import schema_documents
from trainer_tools.k8s import (
    ContractValueError,
    JobSpec,
    ManifestError,
    render_json,
    render_yaml,
    secret_help,
)
from trainer_tools.k8s.env_values import hidden_credentials, launcher_set

NAME = "k8s-job"
HELP = (
    "Render the Kubernetes Job manifest (YAML) that runs a trainer image under the platform "
    "contract: every contract variable, secrets from a Secret, scratch volumes, limits, no retries."
)
# Short names users reach for, beside the one made from the variable's name.
_ALIASES = {"DATASET_S3_URI": ("--dataset-uri",)}
_PREFIX = "contract_"


def flag(var: EnvVar) -> str:
    """The option of a contract variable: `DATASET_S3_URI` -> `--dataset-s3-uri`."""
    return "--" + var.name.lower().replace("_", "-")


def settable(var: EnvVar) -> bool:
    """Whether a variable may be given on the command line (not a secret, not torchrun's)."""
    return not var.secret and not launcher_set(var)


def default_callback_url() -> str | None:
    """The backend URL of the env contract's first example (the in-cluster backend)."""
    examples = schema_documents()["env"].get("examples") or [{}]
    value = examples[0].get("CALLBACK_URL")
    return value if isinstance(value, str) else None


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=VALUE")
    return name, value


FORMATS = ("yaml", "json")


def _format(text: str) -> str:
    if text in FORMATS:
        return text
    hint = f"; to write a file use --output-file {text}" if "." in text or "/" in text else ""
    raise argparse.ArgumentTypeError(f"{text!r} is not a format: choose yaml or json{hint}")


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the k8s-job options; the contract ones come from the env schema."""
    parser.add_argument("--image", required=True, help="the trainer image (repo/name:tag)")
    job = parser.add_argument_group("the job")
    job.add_argument("--name", help="Job name (default: trainer-job-<JOB_ID>)")
    job.add_argument("--namespace", help="namespace of the Job (default: kubectl's)")
    job.add_argument(
        "--secret",
        default=JobSpec.secret_name,
        help=f"Secret holding every secret contract variable (default: {JobSpec.secret_name})",
    )
    job.add_argument("--gpus", type=int, default=0, help="GPUs per pod (default: 0, CPU)")
    job.add_argument(
        "--nodes",
        type=int,
        default=1,
        help="pods (nodes) of one training; more than 1 makes an Indexed Job running torchrun",
    )
    job.add_argument(
        "--torchrun", action="store_true", help="start torchrun (--standalone) on one node too"
    )
    job.add_argument("--cpu", default=JobSpec.cpu, help=f"CPU per pod (default: {JobSpec.cpu})")
    job.add_argument(
        "--memory", default=JobSpec.memory, help=f"memory per pod (default: {JobSpec.memory})"
    )
    job.add_argument(
        "--shm-size",
        default=JobSpec.shm_size,
        help=f"/dev/shm size for data-loader workers (default: {JobSpec.shm_size})",
    )
    job.add_argument("--ephemeral-storage", help="local disk limit per pod (e.g. 100Gi)")
    job.add_argument(
        "--entry-point",
        default=JobSpec.entry_point,
        help=f"script torchrun starts (default: {JobSpec.entry_point})",
    )
    job.add_argument("--master-port", type=int, default=JobSpec.master_port, help="torchrun port")
    job.add_argument(
        "--run-as-user",
        type=int,
        default=JobSpec.run_as_user,
        help=f"non-root user id of the image (default: {JobSpec.run_as_user})",
    )
    job.add_argument("--service-account", help="service account of the pod")
    job.add_argument(
        "--image-pull-secret", action="append", default=[], help="registry Secret (repeatable)"
    )
    job.add_argument(
        "--node-selector",
        action="append",
        type=_pair,
        default=[],
        metavar="KEY=VALUE",
        help="node label the pod needs (repeatable)",
    )
    job.add_argument(
        "--ttl",
        type=int,
        default=JobSpec.ttl_seconds,
        help=f"seconds a finished Job is kept (default: {JobSpec.ttl_seconds}; -1: forever)",
    )
    job.add_argument("--deadline", type=int, help="seconds after which the Job is stopped")
    job.add_argument(
        "-o",
        "--output",
        type=_format,
        choices=FORMATS,
        default="yaml",
        help="output format, as kubectl's -o (default: yaml, with a comment saying how to create "
        "the Secret; json prints that comment on stderr)",
    )
    job.add_argument(
        "--output-file", type=Path, metavar="PATH", help="write to this file instead of stdout"
    )
    job.add_argument(
        "--env",
        action="append",
        type=_pair,
        default=[],
        metavar="NAME=VALUE",
        help="a variable the contract does not define (WANDB_PROJECT=x; repeatable); a "
        "secret-looking name (WANDB_API_KEY, HF_TOKEN) is read from the Secret, its value "
        "never written",
    )
    contract = parser.add_argument_group(
        "contract variables", "each sets the environment variable of the same name"
    )
    callback_url = default_callback_url()
    for var in ENV_VARS.values():
        if not settable(var):
            continue
        default = var.default
        if var.name == "CALLBACK_URL" and callback_url:
            default = callback_url
        if var.required and default is None:
            shown = "required"
        elif var.config_key:
            shown = f"default: CONFIG.{var.config_key}, then {default!r}"
        else:
            shown = f"default: {default!r}"
        contract.add_argument(
            flag(var),
            *_ALIASES.get(var.name, ()),
            dest=_PREFIX + var.name,
            metavar=var.type.upper(),
            required=var.required and default is None,
            default=callback_url if var.name == "CALLBACK_URL" else None,
            help=f"{var.description} ({shown})",
        )
    contract.add_argument(
        "--set",
        action="append",
        type=_pair,
        default=[],
        metavar="NAME=VALUE",
        help="any contract variable by name (repeatable)",
    )


def spec_from_args(args: argparse.Namespace) -> JobSpec:
    """The JobSpec of parsed options."""
    env = {
        key.removeprefix(_PREFIX): value
        for key, value in vars(args).items()
        if key.startswith(_PREFIX) and value is not None
    }
    env.update(dict(args.set))
    job_id = env.pop("JOB_ID")
    return JobSpec(
        image=args.image,
        job_id=job_id,
        env=env,
        name=args.name,
        namespace=args.namespace,
        secret_name=args.secret,
        gpus=args.gpus,
        nodes=args.nodes,
        torchrun=args.torchrun,
        cpu=args.cpu,
        memory=args.memory,
        shm_size=args.shm_size,
        ephemeral_storage=args.ephemeral_storage,
        entry_point=args.entry_point,
        master_port=args.master_port,
        run_as_user=args.run_as_user,
        service_account=args.service_account,
        image_pull_secrets=tuple(args.image_pull_secret),
        node_selector=dict(args.node_selector),
        ttl_seconds=None if args.ttl is not None and args.ttl < 0 else args.ttl,
        deadline_seconds=args.deadline,
        extra_env=dict(args.env),
    )


def run(args: argparse.Namespace) -> int:
    """Print (or write) the manifest; 1 with the reason on stderr when an option is wrong."""
    try:
        spec = spec_from_args(args)
        text = render_json(spec) if args.output == "json" else render_yaml(spec)
        if args.output == "json":
            sys.stderr.write(secret_help(spec))
    except (ManifestError, ContractValueError) as error:
        print(f"trainer-sdk k8s-job: error: {error}", file=sys.stderr)
        return 1
    for name, raw in {"JOB_ID": spec.job_id, **spec.env}.items():
        where = hidden_credentials(name, raw)
        if where:
            print(
                f"trainer-sdk k8s-job: {name} holds credentials ({', '.join(where)}): the Job "
                f"reads it from the Secret {spec.secret_name!r} (key {name}), not from the "
                "manifest; put the whole value there",
                file=sys.stderr,
            )
    if args.output_file is not None:
        args.output_file.write_text(text, encoding="utf-8")
        print(f"wrote {args.output_file}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
