"""`trainer-sdk k8s-job`: manifests valid for Kubernetes (offline schemas), true to the env contract."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from trainer_contract.env import ENV_VARS
from trainer_contract.lint_rules import ENTRY_ARGS
from trainer_tools.commands import k8s_job
from trainer_tools.k8s.env_values import as_env_string, launcher_set

# The oldest release we promise (Indexed Jobs and pod DNS for them are stable there) and the
# newest the validator ships.
K8S_VERSIONS = ("1.27.0", kubernetes_validate.latest_version())
SECRET_DEFAULTS = {str(v.default) for v in ENV_VARS.values() if v.secret and v.default}


def render(*argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the subcommand in-process; (exit code, stdout, stderr)."""
    parser = argparse.ArgumentParser()
    k8s_job.configure(parser)
    code = k8s_job.run(parser.parse_args(list(argv)))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def manifests(*argv: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    code, out, err = render(*argv, capsys=capsys)
    assert code == 0, err
    return [doc for doc in yaml.safe_load_all(out) if doc is not None]


def container(job: dict[str, Any]) -> dict[str, Any]:
    containers = job["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    result: dict[str, Any] = containers[0]
    return result


def env_of(job: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in container(job)["env"]}


CASES = {
    "cpu": ["--image", "registry.example/trainer:1.0", "--job-id", "123"],
    "gpus": [
        "--image", "registry.example/trainer:1.0", "--job-id", "7", "--gpus", "4",
        "--dataset-uri", "s3://training-datasets/datasets/ds_abc123/", "--model-name", "yolo11n",
        "--task-type", "detection", "--epochs", "50", "--namespace", "training",
        "--node-selector", "gpu=a100", "--image-pull-secret", "regcred", "--deadline", "86400",
        "--service-account", "trainer", "--ephemeral-storage", "200Gi",
    ],
    "nodes": [
        "--image", "registry.example/trainer:1.0", "--job-id", "9", "--gpus", "8",
        "--nodes", "3", "--config", '{"batch": 32, "advanced_config": {"mosaic": 1.0}}',
    ],
    "torchrun-one-node": [
        "--image", "registry.example/trainer:1.0", "--job-id", "10", "--gpus", "2", "--torchrun",
        "--ttl", "-1",
    ],
}  # fmt: skip


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_manifests_are_valid_kubernetes_objects(
    case: str, version: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for document in manifests(*CASES[case], capsys=capsys):
        # strict: an unknown or misspelt field is an error, as `kubectl apply` would find it.
        kubernetes_validate.validate(document, version, strict=True)


def test_every_contract_variable_is_set_and_secrets_come_from_the_secret(
    capsys: pytest.CaptureFixture[str],
) -> None:
    (job,) = manifests(*CASES["cpu"], "--secret", "job-credentials", capsys=capsys)
    env = env_of(job)
    for name, var in ENV_VARS.items():
        if launcher_set(var):
            assert name not in env, f"{name} is torchrun's to set"
        elif var.secret:
            reference = env[name]["valueFrom"]["secretKeyRef"]
            assert reference["name"] == "job-credentials" and reference["key"] == name
            assert "value" not in env[name]
        elif name == "JOB_ID":
            assert env[name]["value"] == "123"
        elif var.basic_key == "device":
            # Without GPUs the trainer is told to use the CPU.
            assert env[name]["value"] == "cpu"
        elif var.config_key is not None:
            # A direct variable wins over CONFIG: writing its default would defeat CONFIG.
            assert name not in env, f"{name} would override CONFIG.{var.config_key}"
        elif var.default is not None:
            assert env[name]["value"] == as_env_string(var, var.default), name
        elif not var.required:
            assert name not in env, f"{name} has no value and no default"
    assert env["CALLBACK_URL"]["value"] == k8s_job.default_callback_url()


def test_config_decides_unless_a_variable_overrides_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from trainer_sdk.config import load_settings

    config = '{"epochs": 7, "device": "1"}'
    (job,) = manifests(*CASES["gpus"][:4], "--gpus", "2", "--config", config, capsys=capsys)
    env = {e["name"]: e["value"] for e in container(job)["env"] if "value" in e}
    basic = load_settings(env).basic
    # CONFIG names the device: --gpus does not override it.
    assert basic["epochs"] == 7 and basic["device"] == "1"
    (job,) = manifests(*CASES["gpus"][:4], "--config", config, "--epochs", "9", capsys=capsys)
    env = {e["name"]: e["value"] for e in container(job)["env"] if "value" in e}
    assert load_settings(env).basic["epochs"] == 9


def test_no_secret_value_is_ever_inlined(capsys: pytest.CaptureFixture[str]) -> None:
    assert SECRET_DEFAULTS, "the env contract lost its secret defaults; update this test"
    for argv in CASES.values():
        code, out, _ = render(*argv, capsys=capsys)
        assert code == 0
        for value in SECRET_DEFAULTS:
            assert value not in out


def test_a_secret_given_as_an_option_is_refused_without_echoing_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret = next(v.name for v in ENV_VARS.values() if v.secret)
    code, out, err = render(*CASES["cpu"], "--set", f"{secret}=hunter2-do-not-print", capsys=capsys)
    assert code == 1 and out == ""
    assert f"{secret} is a secret" in err and "Secret" in err
    assert "hunter2" not in err


def test_the_job_has_the_platform_shape(capsys: pytest.CaptureFixture[str]) -> None:
    (job,) = manifests(*CASES["gpus"], capsys=capsys)
    assert job["kind"] == "Job" and job["metadata"]["namespace"] == "training"
    spec = job["spec"]
    assert spec["backoffLimit"] == 0
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["securityContext"]["runAsNonRoot"] is True
    main = container(job)
    # The platform's command line, as its Kubernetes manager writes it (lifecycle.json).
    assert main["command"] == ["python"]
    assert main["args"] == ["train.py", *ENTRY_ARGS]
    mounts = {m["mountPath"]: m["name"] for m in main["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    for var in ("TMP_DIR", "WORK_DIR"):
        path = str(ENV_VARS[var].default)
        assert path in mounts, f"no volume at {path}"
        assert volumes[mounts[path]]["emptyDir"] == {}
    assert volumes[mounts["/dev/shm"]]["emptyDir"]["medium"] == "Memory"
    limits = main["resources"]["limits"]
    assert limits["nvidia.com/gpu"] == 4 and limits["cpu"] == "4" and limits["memory"] == "16Gi"
    assert limits["ephemeral-storage"] == "200Gi"
    assert main["resources"]["requests"] == limits
    env = env_of(job)
    assert env["DEVICE"]["value"] == "0,1,2,3"
    assert env["DATASET_S3_URI"]["value"] == "s3://training-datasets/datasets/ds_abc123/"
    assert env["EPOCHS"]["value"] == "50" and env["MODEL_NAME"]["value"] == "yolo11n"
    assert pod["nodeSelector"] == {"gpu": "a100"}
    assert pod["imagePullSecrets"] == [{"name": "regcred"}]
    assert spec["activeDeadlineSeconds"] == 86400


def test_several_nodes_make_an_indexed_job_running_torchrun(
    capsys: pytest.CaptureFixture[str],
) -> None:
    service, job = manifests(*CASES["nodes"], capsys=capsys)
    name = job["metadata"]["name"]
    assert name == "trainer-job-9"
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    assert spec["completions"] == spec["parallelism"] == 3
    assert spec["backoffLimit"] == 0
    pod = spec["template"]["spec"]
    # The headless Service selects exactly these pods and names them <job>-<index>.<service>.
    assert service["kind"] == "Service" and service["spec"]["clusterIP"] == "None"
    assert service["metadata"]["name"] == pod["subdomain"] == name
    labels = spec["template"]["metadata"]["labels"]
    assert all(labels.get(k) == v for k, v in service["spec"]["selector"].items())
    main = container(job)
    assert main["command"][0] == "torchrun" and main["command"][-3:] == ["train.py", *ENTRY_ARGS]
    env = env_of(job)
    assert env["NNODES"]["value"] == "3" and env["NPROC_PER_NODE"]["value"] == "8"
    assert env["MASTER_ADDR"]["value"] == f"{name}-0.{name}"
    assert env["MASTER_PORT"]["value"] == str(service["spec"]["ports"][0]["port"])
    field = env["NODE_RANK"]["valueFrom"]["fieldRef"]["fieldPath"]
    assert "batch.kubernetes.io/job-completion-index" in field
    # Every $(VAR) of the command is defined in the container's env, so Kubernetes expands it.
    for argument in main["command"]:
        if "$(" in argument:
            assert argument.split("$(")[1].split(")")[0] in env, argument
    for var in ("RANK", "LOCAL_RANK", "WORLD_SIZE"):
        assert var not in env, f"torchrun sets {var} per process"
    config = json.loads(env["CONFIG"]["value"])
    assert config == {"batch": 32, "advanced_config": {"mosaic": 1.0}}


def test_one_node_torchrun_is_standalone(capsys: pytest.CaptureFixture[str]) -> None:
    (job,) = manifests(*CASES["torchrun-one-node"], capsys=capsys)
    command = container(job)["command"]
    assert command[:2] == ["torchrun", "--standalone"]
    assert "ttlSecondsAfterFinished" not in job["spec"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--set", "EPOCH=3"],
            "EPOCH is not a contract environment variable; did you mean EPOCHS?",
        ),
        (["--epochs", "0"], "EPOCHS='0' breaks the CONFIG schema: $.epochs"),
        (["--config", "[1, 2]"], "CONFIG must be a JSON object"),
        (["--config", "{nope"], "CONFIG='{nope' is not a valid json"),
        (["--set", "RANK=0"], "RANK is set by torchrun"),
        (["--dataset-uri", "http://x/"], "DATASET_S3_URI='http://x/' must match"),
        (["--memory", "lots"], "--memory 'lots' is not a Kubernetes quantity"),
        (["--name", "Bad_Name"], "--name 'Bad_Name': a Job name must be lower-case"),
        (["--gpus", "-1"], "--gpus -1: must be 0 (CPU) or more"),
        (["--nodes", "0"], "--nodes 0: must be 1 or more"),
    ],
)
def test_bad_options_are_named_with_their_fix(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = render(*CASES["cpu"], *argv, capsys=capsys)
    assert code == 1 and out == ""
    assert message in err


def test_a_bad_job_id_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = render("--image", "img:1", "--job-id", "abc", capsys=capsys)
    assert code == 1
    assert "JOB_ID='abc' must match" in err


def test_every_settable_contract_variable_has_an_option() -> None:
    parser = argparse.ArgumentParser()
    k8s_job.configure(parser)
    options = {o for action in parser._actions for o in action.option_strings}
    for var in ENV_VARS.values():
        assert (k8s_job.flag(var) in options) == k8s_job.settable(var), var.name


def test_output_is_deterministic_and_can_go_to_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = render(*CASES["nodes"], capsys=capsys)[1]
    assert render(*CASES["nodes"], capsys=capsys)[1] == first
    out = tmp_path / "job.yaml"
    code, stdout, _ = render(*CASES["nodes"], "--output-file", str(out), capsys=capsys)
    assert code == 0 and stdout == ""
    assert out.read_text() == first
    assert first.startswith("# Kubernetes Job for training job 9")
    assert "kubectl create secret generic trainer-secrets" in first


def test_the_trainer_sdk_command_renders_it() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "trainer_tools.cli", "k8s-job", "--image", "img:1", "--job-id", "3"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (job,) = [d for d in yaml.safe_load_all(done.stdout) if d]
    kubernetes_validate.validate(job, K8S_VERSIONS[-1], strict=True)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_sdk_reads_the_environment_the_job_sets(
    case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from trainer_sdk.config import load_settings

    job = manifests(*CASES[case], capsys=capsys)[-1]
    env = {}
    for entry in container(job)["env"]:
        if "value" in entry:
            env[entry["name"]] = entry["value"]
        elif "secretKeyRef" in entry.get("valueFrom", {}):
            env[entry["name"]] = f"secret-of-{entry['name'].lower()}"
    # What the pod would see, parsed by the SDK itself: every value the manifest writes is valid.
    settings = load_settings(env)
    assert settings.job_id == int(env["JOB_ID"])
    basic = settings.basic
    gpus = int(CASES[case][CASES[case].index("--gpus") + 1]) if "--gpus" in CASES[case] else 0
    assert basic["device"] == (",".join(str(i) for i in range(gpus)) if gpus else "cpu")
    if case == "gpus":
        assert basic["epochs"] == 50 and settings.task_type == "detection"
    if case == "nodes":
        assert basic["batch"] == 32 and settings.advanced == {"mosaic": 1.0}
