"""The tools never print or write a secret they were given: the dry-run (its output and its JSON
verdict), verify-backend (a token, credentials in the URL) and k8s-job (credentials in a URL or
in CONFIG go to the Secret, not into the manifest's plain `env`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from backend_process import Backend

TOKEN = "verify-tok-0a9b8c7d6e5f"
PASSWORD = "Pa55-in-url-7f6e5d"
CONFIG_KEY = "wandb-key-1b2c3d4e5f6a"


def _cli(
    *args: str, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CALLBACK_TOKEN", "DEV_BACKEND_TOKEN")}
    return subprocess.run(
        [sys.executable, "-m", "trainer_tools.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=env,
    )


def _assert_clean(where: str, text: str, secrets: dict[str, str]) -> None:
    for name, value in secrets.items():
        at = text.find(value)
        assert at < 0, f"the {name} appears in {where}: ...{text[max(0, at - 300) : at + 80]}..."


# -- dry-run ----------------------------------------------------------------------------------------

TRAINER = r"""
import json, os, sys
from trainer_sdk import run

names = ("CALLBACK_TOKEN", "EXTERNAL_STORAGE_ACCESS_KEY", "EXTERNAL_STORAGE_SECRET_KEY")
with open(SIDE_FILE, "w") as side:  # the test learns the secrets the dry-run made up
    json.dump({name: os.environ.get(name, "") for name in names}, side)
print("debugging the environment:", {name: os.environ.get(name) for name in names})
print("token again", os.environ.get("CALLBACK_TOKEN"), file=sys.stderr)


def main(sdk):
    sdk.report_started("training")
    raise RuntimeError("failed with " + os.environ["EXTERNAL_STORAGE_SECRET_KEY"])


run(main)
"""


def test_the_dry_run_masks_the_secrets_it_injects(tmp_path: Path) -> None:
    side = tmp_path / "side.json"
    script = tmp_path / "train.py"
    script.write_text(TRAINER.replace("SIDE_FILE", repr(str(side))))
    done = _cli("dry-run", str(script), "--json", cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr[-3000:]
    secrets = {name: value for name, value in json.loads(side.read_text()).items() if value}
    assert set(secrets) == {
        "CALLBACK_TOKEN",
        "EXTERNAL_STORAGE_ACCESS_KEY",
        "EXTERNAL_STORAGE_SECRET_KEY",
    }
    verdict = json.loads(done.stdout)
    assert verdict["output_tail"], verdict  # the trainer's output is in the verdict, masked
    assert "***" in json.dumps(verdict["output_tail"])
    _assert_clean("the JSON verdict", done.stdout, secrets)
    _assert_clean("the dry-run's human output", done.stderr, secrets)


# -- verify-backend ---------------------------------------------------------------------------------


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[Backend]:
    server = Backend(tmp_path, "--token", TOKEN)
    yield server
    server.stop()


def test_verify_backend_prints_neither_token_nor_url_credentials(backend: Backend) -> None:
    url = f"http://checker:{PASSWORD}@127.0.0.1:{backend.port}"
    secrets = {"token": TOKEN, "URL password": PASSWORD}
    for mode in ((), ("--json",)):
        done = _cli("verify-backend", url, "--token", TOKEN, "--examples", "0", *mode)
        assert done.returncode in (0, 1), done.stderr[-3000:]
        assert "127.0.0.1" in done.stdout
        _assert_clean(f"verify-backend {mode} stdout", done.stdout, secrets)
        _assert_clean(f"verify-backend {mode} stderr", done.stderr, secrets)
    unreachable = _cli("verify-backend", f"http://checker:{PASSWORD}@127.0.0.1:9", "--token", TOKEN)
    assert unreachable.returncode == 2
    _assert_clean("verify-backend's connection error", unreachable.stderr, secrets)


# -- k8s-job ----------------------------------------------------------------------------------------


def _env_of(manifest: str) -> dict[str, dict[str, object]]:
    job = next(d for d in yaml.safe_load_all(manifest) if d and d.get("kind") == "Job")
    container = job["spec"]["template"]["spec"]["containers"][0]
    return {entry["name"]: entry for entry in container["env"]}


def test_k8s_job_moves_credentials_in_urls_and_config_to_the_secret(tmp_path: Path) -> None:
    config = json.dumps({"epochs": 3, "advanced_config": {"wandb_api_key": CONFIG_KEY}})
    done = _cli(
        "k8s-job",
        *("--image", "registry.local/trainer:1", "--job-id", "5"),
        *("--callback-url", f"http://platform:{PASSWORD}@backend.local:8000/api"),
        *("--set", f"CONFIG={config}"),
        *("--set", "INTERNAL_STORAGE_ENDPOINT=http://minio.local:9000"),
    )
    assert done.returncode == 0, done.stderr
    secrets = {"URL password": PASSWORD, "API key inside CONFIG": CONFIG_KEY}
    _assert_clean("the manifest", done.stdout, secrets)
    _assert_clean("k8s-job's messages", done.stderr, secrets)
    env = _env_of(done.stdout)
    for name in ("CALLBACK_URL", "CONFIG"):
        assert "value" not in env[name], env[name]
        assert env[name]["valueFrom"] == {"secretKeyRef": {"name": "trainer-secrets", "key": name}}
        assert f"--from-literal={name}=..." in done.stdout  # the header says what to put there
        assert name in done.stderr  # and the user is told why
    # Values without credentials stay plain.
    assert env["INTERNAL_STORAGE_ENDPOINT"]["value"] == "http://minio.local:9000"
    assert env["JOB_ID"]["value"] == "5"


def test_k8s_job_errors_do_not_echo_credentials() -> None:
    done = _cli(
        "k8s-job",
        *("--image", "img:1", "--job-id", "5"),
        *("--callback-url", f"ftp://platform:{PASSWORD}@backend.local"),
    )
    assert done.returncode == 1
    assert "CALLBACK_URL" in done.stderr
    _assert_clean("k8s-job's error", done.stderr, {"URL password": PASSWORD})
