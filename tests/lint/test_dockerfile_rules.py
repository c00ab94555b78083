"""Dockerfile rules: the guide's template and its variants are clean; each seeded mistake gives
exactly its code at its line.

Mutations edit a clean fixture and name the expected line by a piece of text of the mutated file,
so no line number is typed in by hand.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lint_mutations import Mutation, line_of, mutation_maker

from trainer_contract.env import SECRET_ENV_VARS
from trainer_contract.lint_rules import LINT_RULES
from trainer_tools.trainer_lint.engine import is_dockerfile, lint_dockerfile_source

DOCKERFILES = Path(__file__).parent / "fixtures" / "dockerfiles"
CLEAN = [
    "guide_fixed.Dockerfile",
    "pip_package.Dockerfile",
    "uv_venv.Dockerfile",
    "inherited.Dockerfile",
    "requirements_context/Dockerfile",
]
DOCKERFILE_CODES = sorted(c for c, r in LINT_RULES.items() if r.language == "dockerfile")


def read(name: str) -> str:
    return (DOCKERFILES / name).read_text(encoding="utf-8")


def lint(
    text: str, context: Path | None = None, skip: tuple[str, ...] = ()
) -> list[tuple[str, int]]:
    enabled = [c for c in DOCKERFILE_CODES if c not in skip]
    found = lint_dockerfile_source(text, "Dockerfile", enabled=enabled, context=context)
    return [(f.code, f.line) for f in found]


# Contexts built by a test hold only the files that test is about (no train.py): TRL107, which
# checks that every COPY source exists, is left out there.
NOT_COPIES = ("TRL107",)


@pytest.mark.parametrize("name", CLEAN)
def test_clean_dockerfiles_give_no_findings(name: str) -> None:
    context = (DOCKERFILES / name).parent
    assert lint(read(name), context) == []


def test_the_guides_template_gets_its_three_traps_with_their_fixes() -> None:
    # The template as the guide prints it: `# note` after COPY, files copied "if present", and
    # a package Debian 12 dropped. guide_fixed.Dockerfile is the same template, fixed.
    text = read("guide_template.Dockerfile")
    findings = lint_dockerfile_source(text, "Dockerfile", context=DOCKERFILES)
    note = line_of(text, "COPY utils.py")
    got = sorted((f.code, f.line) for f in findings)
    assert got == [
        ("TRL106", note),
        ("TRL106", note + 1),
        ("TRL107", note),
        ("TRL107", note + 1),
        ("TRL108", line_of(text, "libgl1-mesa-glx")),
        ("TRL108", line_of(text, "libgl1-mesa-glx", 1)),
    ]
    messages = {f.code: f.message for f in findings}
    assert "move it to its own line above" in messages["TRL106"]
    assert "install `libgl1` instead" in messages["TRL108"]
    assert "`requirements.txt` is not in the build context" in messages["TRL107"]


def test_the_guide_template_fixture_is_the_guides() -> None:
    text = read("guide_template.Dockerfile")
    # The template as the guide prints it, oddities included (a `#` after COPY is not a comment).
    assert text.startswith(
        "# =========================================\n# Custom Trainer Dockerfile"
    )
    assert "COPY utils.py ./           # 있는 경우\n" in text
    assert text.rstrip().endswith('CMD ["python", "train.py"]')


m = mutation_maker(DOCKERFILES)


GT = "guide_fixed.Dockerfile"
PIP = "pip_package.Dockerfile"
UV = "uv_venv.Dockerfile"
INH = "inherited.Dockerfile"
REQ = "requirements_context/Dockerfile"
GT_CMD = 'CMD ["python", "train.py"]'
PRODUCTION = "FROM python:3.11-slim AS production"

MUTATIONS = [
    # -- TRL101 entry point ------------------------------------------------------------------------
    m(GT, "other-script", [(GT_CMD, 'CMD ["python", "main.py"]')], "TRL101", "CMD"),
    m(GT, "no-command", [(GT_CMD, "")], "TRL101", PRODUCTION),
    m(GT, "a-shell", [(GT_CMD, 'CMD ["bash"]')], "TRL101", "CMD"),
    m(GT, "python-module", [(GT_CMD, 'CMD ["python", "-m", "trainer"]')], "TRL101", "CMD"),
    m(GT, "wrong-folder", [(GT_CMD, 'CMD ["python", "/srv/train.py"]')], "TRL101", "CMD"),
    m(GT, "workdir-moved", [(GT_CMD, "WORKDIR /data\n" + GT_CMD)], "TRL101", "CMD"),
    m(
        GT,
        "entrypoint-shell-form-ignores-cmd",
        [(GT_CMD, "ENTRYPOINT exec /bin/bash\n" + GT_CMD)],
        "TRL101",
        "ENTRYPOINT",
    ),
    m(
        INH,
        "inherited-cmd-reset",
        [("COPY --chown", 'ENTRYPOINT ["tini", "--"]\nCOPY --chown')],
        "TRL101",
        "ENTRYPOINT",
    ),
    m(
        PIP,
        "script-renamed",
        [('"/opt/trainer/train.py"]', '"/opt/trainer/run.py"]')],
        "TRL101",
        'CMD ["python3"',
    ),
    # -- TRL102 SDK in the image -------------------------------------------------------------------
    m(GT, "no-bundle", [("COPY trainer_sdk.py ./\n", "")], "TRL102", PRODUCTION),
    m(
        GT,
        "bundle-only-in-builder",
        [
            ("COPY trainer_sdk.py ./\n", ""),
            ("COPY pyproject.toml .\n", "COPY pyproject.toml trainer_sdk.py ./\n"),
        ],
        "TRL102",
        PRODUCTION,
    ),
    m(PIP, "package-misspelled", [('"trainer-sdk[s3]', '"trainer-sdx[s3]')], "TRL102", "FROM"),
    m(
        UV,
        "venv-not-copied",
        [("COPY --from=deps /opt/venv /opt/venv\n", "")],
        "TRL102",
        "FROM python:${PYTHON}-slim AS runtime",
    ),
    m(
        GT,
        "bundle-not-beside-train-py",
        [("COPY trainer_sdk.py ./", "COPY trainer_sdk.py /opt/sdk/")],
        "TRL102",
        "COPY trainer_sdk.py /opt/sdk/",
    ),
    m(
        INH,
        "final-not-from-base",
        [
            (
                "FROM base AS trainer",
                'FROM python:3.11-slim AS trainer\nUSER appuser\nCMD ["python", "train.py"]',
            )
        ],
        "TRL102",
        "FROM python:3.11-slim AS trainer",
    ),
    # -- TRL103 user ---------------------------------------------------------------------------
    m(GT, "user-root", [("USER appuser", "USER root")], "TRL103", "USER root"),
    m(GT, "user-removed", [("USER appuser\n", "")], "TRL103", PRODUCTION),
    m(GT, "root-after-user", [(GT_CMD, "USER 0\n" + GT_CMD)], "TRL103", "USER 0"),
    m(PIP, "uid-zero", [("USER 1000:1000", "USER 0:0")], "TRL103", "USER 0:0"),
    m(INH, "root-in-final", [("COPY --chown", "USER root\nCOPY --chown")], "TRL103", "USER root"),
    m(
        UV,
        "user-from-variable",
        [("USER trainer", "ENV RUN_AS=root\nUSER ${RUN_AS}")],
        "TRL103",
        "USER ${RUN_AS}",
    ),
    # -- TRL104 secrets -------------------------------------------------------------------------
    m(
        GT,
        "contract-secret",
        [(GT_CMD, "ENV INTERNAL_STORAGE_SECRET_KEY=minioadmin\n" + GT_CMD)],
        "TRL104",
        "ENV INTERNAL",
    ),
    m(
        GT,
        "token-arg-in-builder",
        [("AS builder\n", "AS builder\nARG HF_TOKEN=hf_abc\n")],
        "TRL104",
        "ARG HF_TOKEN",
    ),
    m(
        GT,
        "legacy-env",
        [(GT_CMD, "ENV DB_PASSWORD s3cret value\n" + GT_CMD)],
        "TRL104",
        "ENV DB_PASSWORD",
    ),
    m(
        UV,
        "second-pair-of-a-continued-env",
        [
            (
                "    APP_HOME=/srv/trainer\n",
                "    APP_HOME=/srv/trainer \\\n    AWS_SECRET_ACCESS_KEY=abc\n",
            )
        ],
        "TRL104",
        "AWS_SECRET_ACCESS_KEY",
    ),
    m(
        PIP,
        "build-arg-copied-into-env",
        [
            (
                "ARG SDK_VERSION=1.0\n",
                "ARG SDK_VERSION=1.0\nARG GITHUB_TOKEN\nENV GITHUB_TOKEN=$GITHUB_TOKEN\n",
            )
        ],
        "TRL104",
        "ENV GITHUB_TOKEN",
    ),
    m(
        PIP,
        "global-arg",
        [("FROM python:3.11-slim\n", "ARG OPENAI_API_KEY=sk-1\nFROM python:3.11-slim\n")],
        "TRL104",
        "ARG OPENAI",
    ),
    # -- TRL105 shell form ------------------------------------------------------------------------
    m(GT, "shell-form", [(GT_CMD, "CMD python train.py")], "TRL105", "CMD"),
    m(UV, "sh-c-without-exec", [("&& exec python", "&& python")], "TRL105", 'CMD ["sh"'),
    m(
        PIP,
        "shell-form-cmd-after-exec-entrypoint",
        [
            (
                'CMD ["python3", "-u", "/opt/trainer/train.py"]',
                "CMD python3 -u /opt/trainer/train.py",
            )
        ],
        "TRL105",
        "CMD python3",
    ),
    # -- TRL106 comment after an instruction -------------------------------------------------------
    m(
        GT,
        "note-after-copy",
        [("COPY train.py ./", "COPY train.py ./  # the trainer")],
        "TRL106",
        "# the trainer",
    ),
    m(
        GT,
        "note-after-workdir",
        [("WORKDIR /app\n\n# Python", "WORKDIR /app # app\n\n# Python")],
        "TRL106",
        "WORKDIR /app #",
    ),
    # -- TRL107 COPY source missing ----------------------------------------------------------------
    m(
        GT,
        "copied-if-present",
        [("COPY train.py ./", "COPY train.py ./\nCOPY utils.py ./")],
        "TRL107",
        "COPY utils.py",
    ),
    m(
        GT,
        "outside-the-context",
        [("COPY train.py ./", "COPY ../train.py ./")],
        "TRL107",
        "COPY ../train.py",
    ),
    m(
        UV,
        "one-of-two-sources",
        [("COPY train.py engine.py ./", "COPY train.py engin.py ./")],
        "TRL107",
        "COPY train.py engin.py",
    ),
    m(
        GT,
        "wildcard-matching-nothing",
        [("COPY train.py ./", "COPY train.py ./\nCOPY *.yaml ./")],
        "TRL107",
        "COPY *.yaml",
    ),
    # -- TRL108 retired apt package ----------------------------------------------------------------
    m(
        GT,
        "libgl1-mesa-glx",
        [
            (
                "    libgl1 \\\n    libglib2.0-0 \\\n    && rm -rf /var/lib/apt/lists/*\n\nWORKDIR /app\n\n# Python",
                "    libgl1-mesa-glx \\\n    libglib2.0-0 \\\n    && rm -rf /var/lib/apt/lists/*\n\nWORKDIR /app\n\n# Python",
            )
        ],
        "TRL108",
        "libgl1-mesa-glx",
    ),
    m(
        PIP,
        "python-pip",
        [
            (
                "install -y --no-install-recommends tini",
                "install -y --no-install-recommends tini python-pip",
            )
        ],
        "TRL108",
        "python-pip",
    ),
]


def test_every_dockerfile_rule_has_mutations() -> None:
    assert sorted({mutation.code for mutation in MUTATIONS}) == DOCKERFILE_CODES


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda mu: f"{mu.code}-{mu.name}")
def test_mutation_gives_exactly_its_code_at_its_line(mutation: Mutation) -> None:
    text = mutation.apply()
    context = (DOCKERFILES / mutation.fixture).parent
    expected = [(mutation.code, line_of(text, mutation.anchor, mutation.occurrence))]
    assert lint(text, context) == expected


def test_a_requirements_file_must_name_the_sdk(tmp_path: Path) -> None:
    context = tmp_path / "context"
    shutil.copytree(DOCKERFILES / "requirements_context", context)
    text = read(REQ)
    assert lint(text, context, NOT_COPIES) == []
    base = context / "requirements" / "base.txt"
    base.write_text("httpx>=0.27\n# trainer-sdk is vendored\n", encoding="utf-8")
    assert lint(text, context, NOT_COPIES) == [("TRL102", line_of(text, "FROM python:3.11-slim\n"))]
    (context / "requirements" / "base.txt").unlink()
    assert lint(text, context, NOT_COPIES) == [("TRL102", line_of(text, "FROM python:3.11-slim\n"))]
    assert lint(text, None, NOT_COPIES) == [("TRL102", line_of(text, "FROM python:3.11-slim\n"))]


def test_a_pyproject_installed_by_uv_may_name_the_sdk(tmp_path: Path) -> None:
    text = read(GT).replace("COPY trainer_sdk.py ./\n", "")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "t"\nversion = "1"\ndependencies = ["trainer-sdk>=1", "timm"]\n',
        encoding="utf-8",
    )
    assert lint(text, tmp_path, NOT_COPIES) == []
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "t"\nversion = "1"\ndependencies = ["timm"]\n', encoding="utf-8"
    )
    assert [code for code, _ in lint(text, tmp_path, NOT_COPIES)] == ["TRL102"]


def test_an_install_in_a_stage_that_never_reaches_the_final_image_is_named() -> None:
    text = (
        "FROM python:3.11 AS builder\nRUN pip install trainer-sdk\n"
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY train.py ./\nUSER 1000\n"
        'CMD ["python", "train.py"]\n'
    )
    (finding,) = lint_dockerfile_source(text)
    assert finding.code == "TRL102"
    assert "stage 'builder' installs trainer-sdk (line 2)" in finding.message


@pytest.mark.parametrize(
    "line",
    [
        "ARG HF_TOKEN",
        "ENV HF_TOKEN=",
        'ENV HF_TOKEN=""',
        "ENV TOKENIZERS_PARALLELISM=false",
        "ENV MAX_TOKENS=512",
        "LABEL API_KEY=documented-elsewhere",
    ],
)
def test_names_that_are_not_secrets_or_have_no_value_are_not_reported(line: str) -> None:
    text = read(GT).replace(GT_CMD, f"{line}\n{GT_CMD}")
    assert lint(text) == []


@pytest.mark.parametrize("name", sorted(SECRET_ENV_VARS))
def test_every_contract_secret_variable_is_reported(name: str) -> None:
    text = read(GT).replace(GT_CMD, f"ENV {name}=value-{name.lower()}\n{GT_CMD}")
    (finding,) = lint_dockerfile_source(text)
    assert finding.code == "TRL104"
    assert name in finding.message
    assert f"value-{name.lower()}" not in finding.message
    # The finding points at the name, not at the whole instruction.
    assert (finding.column, finding.end_column) == (5, 5 + len(name))


def test_noqa_comment_line_above_silences_only_its_codes() -> None:
    text = read(GT).replace("USER appuser", "# noqa: TRL103\nUSER root")
    assert lint(text) == []
    wrong = read(GT).replace("USER appuser", "# noqa: TRL104\nUSER root")
    assert [code for code, _ in lint(wrong)] == ["TRL103"]
    separated = read(GT).replace("USER appuser", "# noqa: TRL103\n\nUSER root")
    assert [code for code, _ in lint(separated)] == ["TRL103"]


def test_noqa_at_the_end_of_a_shell_form_command_silences_it() -> None:
    text = read(GT).replace(GT_CMD, "CMD python train.py  # noqa: TRL105")
    assert lint(text) == []
    bare = (
        read(GT)
        .replace(
            "\nFROM python:3.11-slim AS production", "\n# noqa\nFROM python:3.11-slim AS production"
        )
        .replace("USER appuser\n", "")
    )
    assert lint(bare) == []


def test_enabled_codes_select_dockerfile_rules() -> None:
    text = read(GT).replace("USER appuser", "USER root").replace(GT_CMD, "CMD python train.py")
    assert sorted(code for code, _ in lint(text)) == ["TRL103", "TRL105"]
    only = lint_dockerfile_source(text, enabled={"TRL105"})
    assert [f.code for f in only] == ["TRL105"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Dockerfile", True),
        ("gpu.Dockerfile", True),
        ("Dockerfile.cuda", True),
        ("dockerfile", False),
        ("Dockerfile_notes.md", False),
        ("Dockerfile.dockerignore", False),
        ("gpu.Dockerfile.dockerignore", False),
        ("Dockerfile.md", False),
        ("Dockerfile.py", False),
        ("train.py", False),
    ],
)
def test_dockerfile_names(name: str, expected: bool) -> None:
    assert is_dockerfile(name) is expected


def test_a_copy_docker_rejects_puts_nothing_in_the_image() -> None:
    """`COPY trainer_sdk.py ./  # the SDK`: `#` is not a comment there, so Docker sees four
    sources and a destination that is not a folder, and fails; the SDK is not in the image."""
    text = read(GT).replace("COPY trainer_sdk.py ./\n", "COPY trainer_sdk.py ./  # the SDK\n")
    assert lint(text, None, NOT_COPIES) == [
        ("TRL102", line_of(text, PRODUCTION)),
        ("TRL106", line_of(text, "# the SDK")),  # and the note itself is reported
    ]
    folder = read(GT).replace("COPY trainer_sdk.py ./\n", "COPY trainer_sdk.py helpers.py /app/\n")
    assert lint(folder, None, NOT_COPIES) == []


def test_a_bundle_on_pythonpath_is_importable() -> None:
    moved = read(GT).replace("COPY trainer_sdk.py ./", "COPY trainer_sdk.py /opt/sdk/")
    assert [c for c, _ in lint(moved)] == ["TRL102"]
    on_path = moved.replace(GT_CMD, f"ENV PYTHONPATH=/opt/sdk:/other\n{GT_CMD}")
    assert lint(on_path) == []
    from_argument = moved.replace(GT_CMD, f"ARG PYTHONPATH\n{GT_CMD}")
    assert lint(from_argument) == []  # set at build time: cannot be known, not reported


@pytest.mark.parametrize(
    "install",
    [
        "RUN /opt/env/bin/pip install trainer-sdk",
        "ENV PATH=/opt/env/bin:$PATH\nRUN pip install trainer-sdk",
        "RUN python -m venv /opt/env && /opt/env/bin/python -m pip install trainer-sdk",
    ],
)
def test_an_environment_copied_from_the_stage_that_installed_the_sdk_carries_it(
    install: str,
) -> None:
    text = (
        f"FROM continuumio/miniconda3 AS env\n{install}\n"
        "FROM debian:bookworm-slim\nCOPY --from=env /opt/env /opt/env\nWORKDIR /app\n"
        'COPY train.py .\nUSER nobody\nCMD ["/opt/env/bin/python", "train.py"]\n'
    )
    assert lint(text) == []
    assert [c for c, _ in lint(text.replace("/opt/env /opt/env", "/opt/other /opt/env"))] == [
        "TRL102"
    ]


@pytest.mark.parametrize(
    "pyproject",
    [
        'project = "not a table"\n',
        '[project]\ndependencies = "trainer-sdk"\noptional-dependencies = ["x"]\n',
        "tool = 3\n",
        "not toml [\n",
    ],
)
def test_a_malformed_pyproject_names_nothing_and_does_not_crash(
    pyproject: str, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    text = read(GT).replace("COPY trainer_sdk.py ./\n", "")
    assert [c for c, _ in lint(text, tmp_path, NOT_COPIES)] == ["TRL102"]


def test_files_outside_the_build_context_are_never_read(tmp_path: Path) -> None:
    context = tmp_path / "context"
    context.mkdir()
    (tmp_path / "outside.txt").write_text("trainer-sdk\n", encoding="utf-8")
    (context / "requirements.txt").write_text("-r ../outside.txt\n", encoding="utf-8")
    text = (
        "FROM python:3.11\nWORKDIR /app\nCOPY requirements.txt ../outside.txt ./\n"
        "RUN pip install -r requirements.txt -r outside.txt\nCOPY train.py ./\nUSER 1000\n"
        'CMD ["python", "train.py"]\n'
    )
    assert [c for c, _ in lint(text, context, NOT_COPIES)] == ["TRL102"]
