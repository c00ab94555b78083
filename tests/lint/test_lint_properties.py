"""Properties over many edited trainers: the linter never crashes and every finding is well-formed."""

from __future__ import annotations

import ast
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from trainer_contract.lint_rules import LINT_RULES
from trainer_tools.trainer_lint import lint_source
from trainer_tools.trainer_lint.noqa import noqa_lines

TRAINERS = sorted((Path(__file__).parent / "fixtures" / "trainers").glob("*.py"))
SOURCES = [p.read_text(encoding="utf-8") for p in TRAINERS]


@st.composite
def edited_trainers(draw: st.DrawFn) -> str:
    """A fixture trainer with some lines deleted or swapped (kept only if it still parses)."""
    lines = draw(st.sampled_from(SOURCES)).splitlines(keepends=True)
    deleted = draw(st.sets(st.integers(0, len(lines) - 1), max_size=6))
    kept = [line for i, line in enumerate(lines) if i not in deleted]
    if draw(st.booleans()) and len(kept) > 2:
        i = draw(st.integers(0, len(kept) - 2))
        kept[i], kept[i + 1] = kept[i + 1], kept[i]
    text = "".join(kept)
    try:
        ast.parse(text)
    except SyntaxError:
        assume(False)
    return text


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.filter_too_much],
)
@given(edited_trainers(), st.booleans())
def test_findings_are_well_formed_and_deterministic(text: str, entry: bool) -> None:
    findings = lint_source(text, "train.py", entry=entry)
    lines = text.splitlines()
    for f in findings:
        assert f.code in LINT_RULES
        assert 1 <= f.line <= max(len(lines), 1)
        assert f.column >= 1 and (f.end_line, f.end_column) >= (f.line, f.column)
        assert f.message and "\n" not in f.message
    assert findings == sorted(findings)
    assert lint_source(text, "train.py", entry=entry) == findings


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.filter_too_much],
)
@given(edited_trainers())
def test_noqa_on_a_finding_line_silences_exactly_that_finding(text: str) -> None:
    findings = lint_source(text, "train.py")
    assume(findings)
    target = findings[0]
    lines = text.splitlines(keepends=True)
    line = lines[target.line - 1].rstrip("\n")
    assume("#" not in line and not line.rstrip().endswith("\\"))
    lines[target.line - 1] = f"{line}  # noqa: {target.code}\n"
    edited = "".join(lines)
    try:
        ast.parse(edited)
    except SyntaxError:
        assume(False)
    # Inside a multi-line string the text is not a comment, so it cannot silence anything.
    assume(target.code in noqa_lines(edited).get(target.line, frozenset()))
    remaining = lint_source(edited, "train.py")
    expected = [f for f in findings if (f.line, f.code) != (target.line, target.code)]
    assert [(f.line, f.code) for f in remaining] == [(f.line, f.code) for f in expected]
