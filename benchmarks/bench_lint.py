"""Benchmark: trainer-lint over a folder of 1,000 trainer files, against the parse floor.

    python benchmarks/bench_lint.py             # 1,000 files, 5 rounds
    python benchmarks/bench_lint.py --files 200 --repeat 1

The files are the framework-style fixture trainers of tests/lint (plain PyTorch, Ultralytics,
Hugging Face, Lightning, mmengine, Keras, the guide's examples), each copy varied (its functions
renamed, and 0-40 extra helper functions appended) so that no two files are the same. Every file
is linted with every rule. Contenders, timed in this process, each on the same files:

- floor: read each file and `ast.parse` it: the least any AST linter must do.
- engine: `lint_file` per file (read, parse, symbols, lifecycle trace, every Python rule of
  the registry (the count is printed), noqa).
- cli: `trainer-lint FOLDER --format json --output-file ...` through `cli.main` (folder walk,
  pyproject lookup, the JSON report), once per folder of 100 files.

Printed: files per second of each, and the ratio of each to the floor (target: the engine at
most 2x). A round times every contender on every file; within it the contenders take turns
folder by folder (100 files, a fraction of a second each), so a change of the shared machine's
load in the middle of a round hits them alike. The best round (CPU time) of each gives the first
ratio, and the median over rounds of each round's own ratio (contender / floor of the same round)
the second, the steadier one on a shared machine.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from trainer_tools.trainer_lint.cli import main as cli_main
from trainer_tools.trainer_lint.config import Settings
from trainer_tools.trainer_lint.engine import lint_file
from trainer_tools.trainer_lint.rules import rules_for

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "lint" / "fixtures" / "trainers"

HELPER = '''

def helper_{n}(values, scale={n}):
    """Unused helper {n}: bulk for the parser and the walk."""
    total = 0.0
    for index, value in enumerate(values):
        if index % 3 == 0:
            total += value * scale
        else:
            total -= value / (index + 1)
    return {{"total": total, "count": len(values), "name": f"helper_{n}"}}
'''


def make_corpus(folder: Path, count: int, seed: int = 7) -> list[Path]:
    """Write `count` varied trainer files; returns their paths."""
    rnd = random.Random(seed)
    sources = sorted(FIXTURES.glob("*.py"))
    texts = [p.read_text(encoding="utf-8") for p in sources]
    paths = []
    for i in range(count):
        text = (
            texts[i % len(texts)]
            .replace("def main(", f"def main_{i}(")
            .replace("main())", f"main_{i}())")
        )
        text += "".join(HELPER.format(n=n) for n in range(rnd.randint(0, 40)))
        sub = folder / f"trainer_{i // 100:02d}"
        sub.mkdir(exist_ok=True)
        path = sub / f"train_{i:04d}.py"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def interleaved(
    repeat: int, parts: list[Path], contenders: dict[str, Callable[[Path], None]]
) -> dict[str, list[float]]:
    """CPU time of each contender in each of `repeat` rounds. In a round the contenders take
    turns on each part (a folder of the corpus): a change of the shared machine's load hits them
    alike, and CPU time (everything here runs in one thread) is what other work on the machine
    disturbs least."""
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeat):
        spent = dict.fromkeys(contenders, 0.0)
        for part in parts:
            for name, work in contenders.items():
                start = time.process_time()
                work(part)
                spent[name] += time.process_time() - start
        for name, seconds in spent.items():
            times[name].append(seconds)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-lint-") as tmp:
        folder = Path(tmp) / "trainers"
        folder.mkdir()
        paths = make_corpus(folder, args.files)
        size = sum(p.stat().st_size for p in paths)
        parts = sorted({p.parent for p in paths})
        files = {part: sorted(part.glob("*.py")) for part in parts}
        settings = Settings()
        findings = 0

        def floor(part: Path) -> None:
            for path in files[part]:
                ast.parse(path.read_text(encoding="utf-8"), filename=str(path))

        def engine(part: Path) -> None:
            nonlocal findings
            for path in files[part]:
                result = lint_file(path, settings, explicit=True)
                assert result.error is None, result.error
                findings += len(result.findings)

        def cli(part: Path) -> None:
            report = Path(tmp) / f"report-{time.perf_counter_ns()}.json"
            with contextlib.redirect_stdout(io.StringIO()):
                code = cli_main(
                    [str(part), "--isolated", "--format", "json", "--output-file", str(report)]
                )
            assert code in (0, 1), code

        for part in parts:  # warm-up: imports, rule registry, validators compiled once
            engine(part)
        per_round = findings
        floor_name = "floor (read + ast.parse)"
        rounds = interleaved(
            args.repeat,
            parts,
            {
                floor_name: floor,
                "engine (lint_file)": engine,
                "cli (trainer-lint DIR --format json)": cli,
            },
        )
        python_rules = len(rules_for("python"))
        print(
            f"{len(paths)} trainer files, {size / 1e6:.1f} MB, {python_rules} Python rules, "
            f"{per_round} findings (the guide's examples have some), {args.repeat} rounds, "
            f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
        )
        base = min(rounds[floor_name])
        for name, times in rounds.items():
            best = min(times)
            ratios = [t / f for t, f in zip(times, rounds[floor_name], strict=True)]
            print(
                f"  {name:<38} {len(paths) / best:6.0f} files/s {best * 1000:8.1f} ms  "
                f"x{best / base:4.2f} of the floor (best rounds), "
                f"median round x{statistics.median(ratios):4.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
