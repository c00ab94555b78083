"""The Dockerfile parser: Docker's syntax, the positions users see, and clear build errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainer_tools.trainer_lint.dockerfile import DockerfileSyntaxError, parse_dockerfile
from trainer_tools.trainer_lint.dockerfile.image import ImageModel
from trainer_tools.trainer_lint.dockerfile.words import expand, key_values, simple_commands


def test_directives_are_read_only_at_the_top() -> None:
    parsed = parse_dockerfile(
        "# syntax=docker/dockerfile:1.7\n# ESCAPE = \\\n# a comment\n# check=skip=all\nFROM x\n"
    )
    assert dict(parsed.directives) == {"syntax": "docker/dockerfile:1.7", "escape": "\\"}
    assert parsed.comments[3] == "# a comment"
    assert parsed.comments[4] == "# check=skip=all"  # after a comment: an ordinary comment


def test_backtick_escape_continues_lines_and_keeps_backslashes() -> None:
    text = (
        "# escape=`\nFROM mcr.microsoft.com/windows\nCOPY src\\ C:\\app\\\nRUN dir `\n    C:\\app\n"
    )
    parsed = parse_dockerfile(text)
    copy, run = parsed.final.instructions
    assert copy.arguments == "src\\ C:\\app\\"
    assert run.arguments == "dir     C:\\app"
    assert (run.line, run.end_line) == (4, 5)


def test_continuation_drops_comment_and_blank_lines_inside_an_instruction() -> None:
    text = (
        "FROM python:3.11\n"
        "RUN apt-get update && \\\n"
        "    # the comment is not part of the command\n"
        "\n"
        "    apt-get install -y git\n"
        "USER app\n"
    )
    parsed = parse_dockerfile(text)
    run, user = parsed.final.instructions
    assert run.arguments == "apt-get update &&     apt-get install -y git"
    assert (run.line, run.end_line) == (2, 5)
    assert parsed.comments[3].startswith("# the comment")
    assert user.line == 6


def test_a_hash_after_an_instruction_is_not_a_comment() -> None:
    parsed = parse_dockerfile("FROM x\nCOPY utils.py ./   # optional\n")
    (copy,) = parsed.final.instructions
    assert copy.arguments == "utils.py ./   # optional"


def test_exec_form_is_a_json_array_and_invalid_json_is_shell_form() -> None:
    parsed = parse_dockerfile(
        'FROM x\nCMD ["python", "train.py"]\nENTRYPOINT [python, train.py]\nCMD [ "a" ,"b" ]\n'
    )
    cmd, entrypoint, spaced = parsed.final.instructions
    assert cmd.exec_form == ("python", "train.py")
    assert entrypoint.exec_form is None
    assert entrypoint.arguments == "[python, train.py]"
    assert spaced.exec_form == ("a", "b")


def test_flags_come_before_the_arguments() -> None:
    parsed = parse_dockerfile(
        "FROM --platform=linux/amd64 python:3.11 AS base\n"
        "COPY --from=base --chown=1000:1000 --link /a /b\n"
    )
    stage = parsed.final
    assert stage.base == "python:3.11"
    assert dict(stage.origin.flags) == {"platform": "linux/amd64"}
    (copy,) = stage.instructions
    assert dict(copy.flags) == {"from": "base", "chown": "1000:1000", "link": None}
    assert copy.arguments == "/a /b"


def test_flags_are_read_only_where_docker_reads_them() -> None:
    parsed = parse_dockerfile("FROM x\nCMD --help\nENTRYPOINT --version now\n")
    cmd, entrypoint = parsed.final.instructions
    assert (dict(cmd.flags), cmd.arguments) == ({}, "--help")
    assert entrypoint.arguments == "--version now"


def test_stages_are_named_case_insensitively_and_by_index() -> None:
    parsed = parse_dockerfile("ARG V=1\nFROM a AS Builder\nRUN x\nfrom builder as final\nRUN y\n")
    assert [s.name for s in parsed.stages] == ["builder", "final"]
    assert [a.arguments for a in parsed.global_args] == ["V=1"]
    assert parsed.stage_named("BUILDER") is parsed.stages[0]
    assert parsed.stage_named("1") is parsed.stages[1]
    assert parsed.stage_named("python:3.11") is None
    assert parsed.final.instructions[0].keyword == "RUN"


def test_heredoc_bodies_belong_to_their_instruction() -> None:
    text = "FROM x\nRUN <<EOF\npip install a\nUSER root\nEOF\nRUN <<-'END' bash\n\techo hi\n\tEND\nUSER app\n"
    parsed = parse_dockerfile(text)
    first, second, user = parsed.final.instructions
    assert first.heredocs == ("pip install a\nUSER root\n",)
    assert (first.line, first.end_line) == (2, 5)
    assert second.heredocs == ("echo hi\n",)
    assert user.keyword == "USER" and user.line == 9


def test_positions_are_one_based_with_an_exclusive_end() -> None:
    line = "  user   root"
    parsed = parse_dockerfile(f"FROM x\n{line}  \n")
    (user,) = parsed.final.instructions
    assert (user.keyword, user.arguments) == ("USER", "root")
    # Trailing blanks are not part of the instruction; the end is one past its last character.
    assert (user.line, user.column, user.end_line, user.end_column) == (2, 3, 2, len(line) + 1)


def test_crlf_and_a_byte_order_mark_are_accepted() -> None:
    parsed = parse_dockerfile('\ufeffFROM x\r\nRUN a \\\r\n  b\r\nCMD ["python", "train.py"]\r\n')
    run, cmd = parsed.final.instructions
    assert run.arguments == "a   b"
    assert cmd.exec_form == ("python", "train.py")


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ("FROM x\nRUNN echo\n", 2, "unknown instruction 'RUNN'"),
        ("RUN echo\nFROM x\n", 1, "RUN before the first FROM"),
        ("# just a comment\nARG A=1\n", 1, "no FROM instruction"),
        ("# escape=x\nFROM x\n", 1, "escape character"),
        ("FROM x\nRUN <<EOF\necho\n", 2, "never closed"),
        ("FROM a b c d\n", 1, "AS name"),
        ("FROM\n", 1, "FROM needs an image"),
        ("# syntax=a\n# syntax=b\nFROM x\n", 2, "twice"),
    ],
)
def test_build_errors_name_the_line_and_the_fix(text: str, line: int, needle: str) -> None:
    with pytest.raises(DockerfileSyntaxError) as caught:
        parse_dockerfile(text, "images/Dockerfile")
    assert caught.value.line == line
    assert needle in caught.value.message
    assert str(caught.value).startswith(f"images/Dockerfile:{line}:")
    assert caught.value.kind == "Dockerfile error"


def test_expand_substitutes_known_variables_only() -> None:
    variables = {"A": "x", "EMPTY": "", "UNSET": None}
    assert expand("$A/${A}/${EMPTY:-d}/${EMPTY-d}/${A:+y}/\\$A", variables) == "x/x/d//y/$A"
    assert expand("${NOPE:-fallback}", variables) == "fallback"
    assert expand("$NOPE", variables) is None
    assert expand("$UNSET", variables) is None
    assert expand("/opt/venv/bin:$PATH", variables, partial=True) == "/opt/venv/bin:"


def test_key_values_of_env_and_arg() -> None:
    assert key_values('A=1 B="two words" C=') == [("A", "1"), ("B", "two words"), ("C", "")]
    assert key_values("LEGACY value with spaces") == [("LEGACY", "value with spaces")]
    assert key_values("BARE") == [("BARE", None)]


def test_simple_commands_split_on_shell_operators() -> None:
    script = "cd /app && pip install 'a b' || true; echo x | tee y\nexec python train.py # note"
    assert simple_commands(script) == [
        ["cd", "/app"],
        ["pip", "install", "a b"],
        ["true"],
        ["echo", "x"],
        ["tee", "y"],
        ["exec", "python", "train.py"],
    ]


def test_a_stage_inherits_workdir_user_and_command_from_its_base_stage() -> None:
    parsed = parse_dockerfile(
        'FROM python:3.11 AS base\nWORKDIR /app\nUSER app\nCMD ["python", "train.py"]\n'
        'FROM base AS final\nWORKDIR sub\nENTRYPOINT ["tini", "--"]\n'
    )
    view = ImageModel(parsed).final
    assert view.workdir == "/app/sub"
    assert view.user_name == "app"
    assert view.cmd is None  # a new ENTRYPOINT resets the CMD inherited from the base
    assert [s.name for s in view.chain] == ["base", "final"]


_LINE = st.one_of(
    st.sampled_from(
        [
            "FROM python:3.11 AS b",
            "FROM b",
            "RUN pip install trainer-sdk \\",
            "  && echo done",
            "# escape=`",
            "# noqa: TRL103",
            'CMD ["python", "train.py"]',
            "CMD python train.py",
            "ENTRYPOINT [",
            "COPY --from=b /usr/local /usr/local",
            "COPY trainer_sdk.py train.py ./",
            "USER root",
            "ENV TOKEN=x A",
            "ARG PASSWORD",
            "RUN <<EOF",
            "EOF",
            "WORKDIR $HOME",
            "",
            "\\",
        ]
    ),
    st.text(max_size=30),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_LINE, max_size=12))
def test_parsing_and_linting_never_crash(lines: list[str]) -> None:
    """Any text is either a Dockerfile (and then linted without error) or a build error."""
    from trainer_tools.trainer_lint import lint_source

    text = "\n".join(lines)
    try:
        findings = lint_source(text, "Dockerfile")
    except DockerfileSyntaxError as exc:
        assert exc.line >= 1
        return
    for finding in findings:
        assert finding.code.startswith("TRL1")
        assert 1 <= finding.line <= finding.end_line
