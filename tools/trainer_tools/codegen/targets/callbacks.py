"""`callbacks.py`: the endpoint table of the callback API (schemas/callbacks/api.json)."""

from __future__ import annotations

from typing import Any

from trainer_tools.codegen.context import GenContext


def endpoints(ctx: GenContext) -> list[dict[str, Any]]:
    """The `x-endpoints` table, checked against the schema names it mentions."""
    rows: list[dict[str, Any]] = ctx.schemas["callbacks/api"]["x-endpoints"]
    for row in rows:
        for name in [*row["bodies"], row["response"]]:
            if name not in ctx.schemas:
                raise SystemExit(f"callbacks/api.json {row['name']}: unknown schema {name!r}")
    return rows


def generate(ctx: GenContext) -> dict[str, str]:
    """Write the endpoint table."""
    api = ctx.schemas["callbacks/api"]
    rows = endpoints(ctx)
    lines = [
        ctx.header(),
        f'"""{api["x-api"]["title"]}: {api["description"]}"""',
        "",
        "from __future__ import annotations",
        "",
        "from dataclasses import dataclass",
        "",
        "__all__ = ["
        '"ENDPOINTS", "ERROR_RESPONSE_SCHEMA", "IDEMPOTENCY_HEADER", "JOB_ID_MAXIMUM", '
        '"MAX_INTEGER_DIGITS", "MAX_NESTING_DEPTH", "Endpoint", "endpoints_for_body"]',
        "",
        "",
        "@dataclass(frozen=True)",
        "class Endpoint:",
        '    """One callback endpoint, relative to CALLBACK_URL."""',
        "",
        "    name: str",
        "    method: str",
        "    path: str  # template with {job_id}",
        "    operation_id: str",
        "    summary: str",
        "    operation: str  # training, inference or export: the job kind it serves",
        "    bodies: tuple[str, ...]  # validator names of the accepted request bodies",
        "    response: str  # validator name of the 2xx answer",
        "",
        "    def url(self, base_url: str, job_id: int) -> str:",
        '        """The absolute URL for a job under a CALLBACK_URL."""',
        '        return base_url.rstrip("/") + self.path.format(job_id=job_id)',
        "",
        "",
        "ENDPOINTS: dict[str, Endpoint] = {",
    ]
    for r in rows:
        lines.append(
            f"    {r['name']!r}: Endpoint(name={r['name']!r}, method={r['method']!r}, "
            f"path={r['path']!r}, operation_id={r['operation_id']!r}, summary={r['summary']!r}, "
            f"operation={r['operation']!r}, bodies={tuple(r['bodies'])!r}, "
            f"response={r['response']!r}),"
        )
    lines += [
        "}",
        "",
        f"ERROR_RESPONSE_SCHEMA = {api['x-api']['error_response']!r}",
        "# The request header carrying a callback's idempotency key (the same on every retry).",
        f"IDEMPOTENCY_HEADER = {api['x-api']['idempotency_header']!r}",
        "# The largest job id (a signed 64-bit integer).",
        f"JOB_ID_MAXIMUM = {api['x-api']['job_id_maximum']!r}",
        "# The deepest nesting of objects and arrays a callback body may have (the body is level 1).",
        f"MAX_NESTING_DEPTH = {api['x-api']['max_nesting_depth']!r}",
        "# The most digits an integer in a callback body may have (what every JSON reader parses).",
        f"MAX_INTEGER_DIGITS = {api['x-api']['max_integer_digits']!r}",
        "",
        "",
        "def endpoints_for_body(schema: str, operation: str | None = None) -> list[Endpoint]:",
        '        """Endpoints accepting a body schema, optionally only those of one operation."""'.replace(
            "        ", "    ", 1
        ),
        "    return [",
        "        e",
        "        for e in ENDPOINTS.values()",
        "        if schema in e.bodies and (operation is None or e.operation == operation)",
        "    ]",
        "",
    ]
    return {"callbacks.py": "\n".join(lines)}
