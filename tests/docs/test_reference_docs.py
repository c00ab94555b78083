"""docs/reference/ is generated from the contract, complete, well-formed and checked for drift."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from trainer_contract.callbacks import ENDPOINTS, ERROR_RESPONSE_SCHEMA
from trainer_contract.config import BASIC_CONFIG_KEYS, TASK_TYPE_ALIASES
from trainer_contract.env import ENV_VARS
from trainer_contract.error_type import ERROR_TYPE_ALIASES, ErrorType
from trainer_contract.exit_codes import ExitCode
from trainer_contract.sdk_api import SDK_METHODS
from trainer_contract.validators import schema_documents
from trainer_tools.docs.__main__ import DEFAULT_OUT, main
from trainer_tools.docs.render import render_pages

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    """The pages as the current schemas give them."""
    return render_pages()


def test_committed_reference_docs_are_current(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--check"])
    assert code == 0, capsys.readouterr().out + "\nrun `python -m trainer_tools.docs` and commit"


def test_the_same_schemas_give_the_same_bytes_whatever_the_hash_seed(tmp_path: Path) -> None:
    outputs = []
    for seed in ("0", "977"):
        out = tmp_path / seed
        done = subprocess.run(
            [sys.executable, "-m", "trainer_tools.docs", "--out", str(out)],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        outputs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outputs[0] == outputs[1]


def test_every_env_var_is_documented_with_its_default(pages: dict[str, str]) -> None:
    page = pages["environment.md"]
    for var in ENV_VARS.values():
        rows = [line for line in page.splitlines() if line.startswith(f"| `{var.name}` |")]
        assert len(rows) == 1, var.name
        if var.secret:
            assert "**secret**" in rows[0], var.name
        if var.default is not None and not var.required:
            assert f"| {var.type} |" in rows[0], var.name


def test_every_config_key_and_basic_key_is_documented(pages: dict[str, str]) -> None:
    page = pages["config.md"]
    for key in schema_documents()["config"]["properties"]:
        assert f"| `{key}` |" in page, key
    for key in BASIC_CONFIG_KEYS:
        assert f"| `{key}` |" in page, key
    for alias in TASK_TYPE_ALIASES:
        assert f"`{alias}`" in page, alias


def test_every_callback_payload_field_is_documented(pages: dict[str, str]) -> None:
    page = pages["callbacks.md"]
    bodies = {b for e in ENDPOINTS.values() for b in e.bodies}
    bodies |= {e.response for e in ENDPOINTS.values()} | {ERROR_RESPONSE_SCHEMA}
    documents = schema_documents()
    for body in bodies:
        schema = documents[body]
        assert f"### {schema['title']} ({body})" in page, body
        section = page.split(f"### {schema['title']} ({body})", 1)[1].split("\n### ", 1)[0]
        for field in schema.get("properties", {}):
            required = field in schema.get("required", [])
            row = next(
                (line for line in section.splitlines() if line.startswith(f"| `{field}` |")), None
            )
            assert row is not None, f"{body}: {field}"
            assert ("| yes |" in row) == required, f"{body}: {field}: {row}"
    for endpoint in ENDPOINTS.values():
        assert f"`{endpoint.path}`" in page


def test_every_error_type_member_alias_and_exit_code_is_documented(
    pages: dict[str, str],
) -> None:
    page = pages["errors.md"]
    for member in ErrorType:
        assert f"| `ErrorType.{member.name}` | `{member.value}` |" in page
    for alias in ERROR_TYPE_ALIASES:
        assert f"`ErrorType.{alias}`" in page
    for code in ExitCode:
        assert f"| `{int(code)}` | `ExitCode.{code.name}` |" in page


def test_every_sdk_method_and_parameter_is_documented(pages: dict[str, str]) -> None:
    page = pages["sdk-api.md"]
    for method in SDK_METHODS.values():
        assert f"### {method.name}\n" in page, method.name
        section = page.split(f"### {method.name}\n", 1)[1].split("\n### ", 1)[0]
        for param in method.params:
            assert f"| `{param.name}` |" in section, f"{method.name}({param.name})"


def test_every_dice_field_and_split_default_is_documented(pages: dict[str, str]) -> None:
    page = pages["dice.md"]
    documents = schema_documents()
    annotations = documents["dice/annotations"]
    for field in annotations["properties"]:
        assert f"| `{field}` |" in page, field
    assert "| `annotations[].bbox` |" in page and "| `images[].file_name` |" in page
    split = documents["dice/split-config"]["properties"]
    for field, schema in split.items():
        row = next(line for line in page.splitlines() if line.startswith(f"| `{field}` |"))
        if "default" in schema:
            assert row.endswith(f"| `{json.dumps(schema['default'])}` |"), row


def test_the_index_links_every_page_and_the_lint_rules(pages: dict[str, str]) -> None:
    index = pages["README.md"]
    for name in pages:
        if name != "README.md":
            assert f"]({name})" in index, name
    assert "](../rules.md)" in index


_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def test_every_table_row_has_as_many_cells_as_its_header(pages: dict[str, str]) -> None:
    for name, text in pages.items():
        width = None
        for line in text.splitlines():
            if not line.startswith("|"):
                width = None
                continue
            cells = len(_UNESCAPED_PIPE.findall(line))
            width = width or cells
            assert cells == width, f"{name}: {line}"


def test_check_names_a_changed_page_and_a_stale_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "reference"
    assert main(["--out", str(out)]) == 0
    assert main(["--out", str(out), "--check"]) == 0
    (out / "errors.md").write_text((out / "errors.md").read_text().replace("NaN", "nan"))
    (out / "old-page.md").write_text("gone\n")
    capsys.readouterr()
    assert main(["--out", str(out), "--check"]) == 1
    report = capsys.readouterr().out
    assert "reference/errors.md (on disk)" in report
    assert "stale (nothing produces it now): reference/old-page.md" in report
    assert "run `make docs`" in report
    # Writing again restores the pages and removes the stale one.
    assert main(["--out", str(out)]) == 0
    assert main(["--out", str(out), "--check"]) == 0
    assert not (out / "old-page.md").exists()


def test_pages_carry_no_path_of_this_machine(pages: dict[str, str]) -> None:
    assert DEFAULT_OUT == ROOT / "docs" / "reference"
    for name, text in pages.items():
        assert str(ROOT) not in text, name
        assert text.startswith("<!-- Generated by `make docs`"), name
