"""`models/`: TypedDicts for every schema, by datamodel-code-generator.

TypedDicts (not pydantic models) because payloads stay plain dicts, trainers index them
(`config['epochs']`) and a training image gains no dependency; the validators, not the models,
decide validity (pydantic's lax mode disagrees with the schemas, see DEPENDENCY_NOTES.md).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from trainer_tools.codegen.context import GenContext

OPTIONS = [
    "--input-file-type",
    "jsonschema",
    "--output-model-type",
    "typing.TypedDict",
    "--target-python-version",
    "3.11",
    "--disable-timestamp",
    "--strict-nullable",
    "--use-title-as-name",
    "--use-schema-description",
    "--use-field-description",
    "--no-use-closed-typed-dict",
    "--formatters",
    "builtin",
]


def generate(ctx: GenContext) -> dict[str, str]:
    """Run datamodel-code-generator on the whole schema folder."""
    with tempfile.TemporaryDirectory(prefix="models-") as tmp:
        out = Path(tmp) / "models"
        # Only the schema files: the generator would also try to parse README.md.
        source = Path(tmp) / "schemas"
        for path in sorted(ctx.schema_dir.rglob("*.json")):
            target = source / path.relative_to(ctx.schema_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        header = ctx.header().rstrip("\n")
        command = [
            sys.executable,
            "-m",
            "datamodel_code_generator",
            "--input",
            str(source),
            "--output",
            str(out),
            "--custom-file-header",
            header,
            *OPTIONS,
        ]
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            raise SystemExit(f"datamodel-codegen failed:\n{done.stdout}\n{done.stderr}")
        files: dict[str, str] = {}
        for path in sorted(out.rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            rel = path.relative_to(out).as_posix()
            if not text.startswith(header):
                text = header + "\n" + text
            files[f"models/{rel}"] = text
        if "models/__init__.py" not in files:
            files["models/__init__.py"] = header + '\n"""TypedDicts of the contract."""\n'
        return files
