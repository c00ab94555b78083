"""`sdk_api.py`: the public SDK methods, their parameters and schemas (schemas/sdk-api.json)."""

from __future__ import annotations

from trainer_tools.codegen.context import GenContext


def generate(ctx: GenContext) -> dict[str, str]:
    """Write the method table."""
    api = ctx.schemas["sdk-api"]
    lines = [
        ctx.header(),
        f'"""{api["title"]}: {api["description"]}"""',
        "",
        "from __future__ import annotations",
        "",
        "from dataclasses import dataclass",
        "from typing import Any",
        "",
        '__all__ = ["SDK_METHODS", "Method", "Param"]',
        "",
        "",
        "@dataclass(frozen=True)",
        "class Param:",
        '    """One parameter of an SDK method."""',
        "",
        "    name: str",
        "    required: bool",
        "    default: Any  # JSON value; None when required",
        "    schema: dict[str, Any]  # JSON Schema of the argument ($refs relative to sdk-api.json)",
        "    description: str",
        "",
        "",
        "@dataclass(frozen=True)",
        "class Method:",
        '    """One public method of TrainerSDK."""',
        "",
        "    name: str",
        "    params: tuple[Param, ...]  # in positional order",
        "    schema: str  # validator name of the arguments object",
        "    delivery: str | None  # background, sync, flush-then-sync, or None (no callback)",
        "    sends: tuple[str, ...]  # validator names of the payloads it sends",
        "    rank_zero_only: bool  # a no-op on ranks other than 0",
        "    coalescable: bool  # a queued call may be replaced by a newer one of the same method",
        "    returns: str | None",
        "    description: str",
        "    static: bool = False  # a staticmethod (callable on the class)",
        "    var_keyword: str | None = None  # name of its **kwargs (extra keys it accepts), if any",
        "",
        "    def param(self, name: str) -> Param | None:",
        '        """The parameter of that name, if any."""',
        "        return next((p for p in self.params if p.name == name), None)",
        "",
        "",
        "SDK_METHODS: dict[str, Method] = {",
    ]
    for name, spec in api["$defs"].items():
        required = set(spec.get("required", []))
        props = spec["properties"]
        if list(props) != spec["x-positional"]:
            raise SystemExit(f"sdk-api.json {name}: x-positional must list every property in order")
        if ("x-var-keyword" in spec) != (spec.get("additionalProperties", False) is not False):
            raise SystemExit(
                f"sdk-api.json {name}: a method takes extra keyword arguments (x-var-keyword) "
                "exactly when its arguments object allows additional properties"
            )
        params = []
        for pname in spec["x-positional"]:
            pschema = {k: v for k, v in props[pname].items() if k not in ("description", "default")}
            params.append(
                f"Param(name={pname!r}, required={pname in required!r}, "
                f"default={props[pname].get('default')!r}, schema={pschema!r}, "
                f"description={props[pname].get('description', '')!r})"
            )
        body = ", ".join(params)
        lines.append(
            f"    {name!r}: Method(name={name!r}, params=({body}{',' if len(params) == 1 else ''}), "
            f"schema={'sdk-api#/$defs/' + name!r}, delivery={spec.get('x-delivery')!r}, "
            f"sends={tuple(spec.get('x-sends', []))!r}, "
            f"rank_zero_only={bool(spec.get('x-rank-zero-only', False))!r}, "
            f"coalescable={bool(spec.get('x-coalescable', False))!r}, "
            f"returns={spec.get('x-returns')!r}, description={spec['description']!r}, "
            f"static={bool(spec.get('x-static', False))!r}, "
            f"var_keyword={spec.get('x-var-keyword')!r}),"
        )
    lines += ["}", ""]
    return {"sdk_api.py": "\n".join(lines)}
