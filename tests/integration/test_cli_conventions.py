"""CLI conventions users know from kubectl, ruff and pytest, walked through the real commands:
`k8s-job -o yaml|json` and `--output-file`, `k8s-job --env`, shell completion for both commands,
and no httpx request lines in a trainer's log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from trainer_tools.dev_backend import Store, create_app
from trainer_tools.dry_run.services import AsgiServer

K8S = [sys.executable, "-m", "trainer_tools.cli", "k8s-job", "--image", "reg.example/t:1"]


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trainer_tools.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        check=False,
    )


def env_of(job: dict[str, object]) -> dict[str, dict[str, object]]:
    spec = job["spec"]["template"]["spec"]  # type: ignore[index]
    return {e["name"]: e for e in spec["containers"][0]["env"]}  # type: ignore[index]


def test_k8s_job_output_format_and_file(tmp_path: Path) -> None:
    as_yaml = cli("k8s-job", "--image", "reg.example/t:1", "--job-id", "5")
    assert as_yaml.returncode == 0, as_yaml.stderr
    assert as_yaml.stdout.startswith("# Kubernetes Job for training job 5")
    job = yaml.safe_load(as_yaml.stdout)
    as_json = cli("k8s-job", "--image", "reg.example/t:1", "--job-id", "5", "-o", "json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == job  # the same object, in JSON
    assert "kubectl create secret generic" in as_json.stderr  # the comment JSON cannot carry
    several = cli(
        "k8s-job", "--image", "reg.example/t:1", "--job-id", "5", "--nodes", "2", "-o", "json"
    )
    listed = json.loads(several.stdout)
    assert listed["kind"] == "List"
    assert [i["kind"] for i in listed["items"]] == ["Service", "Job"]

    written = cli(
        "k8s-job",
        "--image",
        "reg.example/t:1",
        "--job-id",
        "5",
        "--output-file",
        "job.yaml",
        cwd=tmp_path,
    )
    assert written.returncode == 0 and written.stdout == ""
    assert (tmp_path / "job.yaml").read_text() == as_yaml.stdout

    mistaken = cli("k8s-job", "--image", "reg.example/t:1", "--job-id", "5", "-o", "job.yaml")
    assert mistaken.returncode == 2
    assert "to write a file use --output-file job.yaml" in mistaken.stderr


def test_k8s_job_env_adds_variables_and_secret_ones_go_to_the_secret() -> None:
    done = cli(
        "k8s-job", "--image", "reg.example/t:1", "--job-id", "5",
        "--env", "WANDB_PROJECT=vision", "--env", "WANDB_API_KEY=wandb-key-value-123",
        "--env", "HF_TOKEN=hf_abcdef",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    env = env_of(yaml.safe_load(done.stdout))
    assert env["WANDB_PROJECT"] == {"name": "WANDB_PROJECT", "value": "vision"}
    for name in ("WANDB_API_KEY", "HF_TOKEN"):
        assert env[name]["valueFrom"] == {"secretKeyRef": {"name": "trainer-secrets", "key": name}}
        assert f"--from-literal={name}=..." in done.stdout
    assert "wandb-key-value-123" not in done.stdout + done.stderr
    assert "hf_abcdef" not in done.stdout + done.stderr

    contract = cli("k8s-job", "--image", "reg.example/t:1", "--job-id", "5", "--env", "EPOCHS=3")
    assert contract.returncode == 1
    assert "--env EPOCHS: a contract variable; give it with --epochs" in contract.stderr
    bad = cli("k8s-job", "--image", "reg.example/t:1", "--job-id", "5", "--env", "1X=3")
    assert bad.returncode == 1 and "not an environment variable name" in bad.stderr


def complete_in_bash(script: str, function: str, *words: str) -> list[str]:
    """What bash offers after `words` (the last one being completed), with the real script."""
    program = (
        script
        + f"\nCOMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}\n"
        + f'{function}; printf "%s\\n" "${{COMPREPLY[@]}}"\n'
    )
    done = subprocess.run(
        ["bash", "-c", program], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_shell_completion_for_both_commands(tmp_path: Path) -> None:
    bash = cli("completion", "bash")
    assert bash.returncode == 0, bash.stderr
    script = bash.stdout
    sdk, lint = "_trainer_sdk_complete", "_trainer_lint_complete"
    assert complete_in_bash(script, sdk, "trainer-sdk", "dr") == ["dry-run"]
    assert complete_in_bash(script, sdk, "trainer-sdk", "dry-run", "--exp") == ["--expect-failure"]
    assert complete_in_bash(script, sdk, "trainer-sdk", "k8s-job", "-o", "") == ["yaml", "json"]
    assert complete_in_bash(script, sdk, "trainer-sdk", "completion", "z") == ["zsh"]
    assert complete_in_bash(script, lint, "trainer-lint", "--stdin") == ["--stdin-filename"]
    assert "sarif" in complete_in_bash(script, lint, "trainer-lint", "--format", "")

    zsh = cli("completion", "zsh").stdout
    assert "bashcompinit" in zsh and f"complete -o filenames -F {sdk} trainer-sdk" in zsh
    fish = cli("completion", "fish").stdout
    assert (
        "complete -c trainer-sdk -n '__fish_seen_subcommand_from dry-run' -l expect-failure" in fish
    )
    assert "-l output -x -a 'yaml json'" in fish
    assert "complete -c trainer-lint" in fish


TRAINER = """
import logging, sys
logging.basicConfig(level=logging.INFO, stream=sys.stderr)
if sys.argv[1] == "verbose":
    logging.getLogger("httpx").setLevel(logging.INFO)  # the user asked for them
from trainer_sdk import TrainerSDK
with TrainerSDK() as sdk:
    sdk.report_started("training", total_epochs=1)
    sdk.report_progress(1, 1, {"loss": 0.5})
    sdk.report_completed({"loss": 0.5}, {}, 1)
logging.getLogger("train").info("done")
"""


@pytest.mark.parametrize("mode", ["default", "verbose"])
def test_httpx_request_lines_stay_out_of_the_trainers_log(tmp_path: Path, mode: str) -> None:
    store = Store(tmp_path / "backend.sqlite3")
    with AsgiServer(create_app(store)) as backend:
        env = {
            **os.environ,
            "JOB_ID": "3",
            "CALLBACK_URL": backend.url,
            "WORK_DIR": str(tmp_path),
            "TMP_DIR": str(tmp_path),
        }
        done = subprocess.run(
            [sys.executable, "-c", TRAINER, mode],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            cwd=tmp_path,
            check=False,
        )
    store.close()
    assert done.returncode == 0, done.stderr
    assert "INFO:train:done" in done.stderr
    requests = [line for line in done.stderr.splitlines() if "HTTP Request:" in line]
    if mode == "default":
        assert requests == [], requests
    else:
        assert len(requests) >= 3, done.stderr  # started, progress, completed
