"""docs/reference/sdk-api.md: every public TrainerSDK method with its parameters."""

from __future__ import annotations

from trainer_contract.sdk_api import SDK_METHODS, Method
from trainer_tools.docs.markdown import anchor, code, page, table
from trainer_tools.docs.schema_text import SchemaIndex

FILE = "sdk-api.md"
TITLE = "TrainerSDK methods"

_DELIVERY = {
    "background": "queued and sent in the background; returns at once",
    "sync": "sent before the call returns",
    "flush-then-sync": "flushes the queue, then sent before the call returns",
}


def signature(method: Method) -> str:
    """`report_progress(epoch, total_epochs, metrics, extra_data=None)`, Python defaults."""
    parts = [p.name if p.required else f"{p.name}={p.default!r}" for p in method.params]
    return f"{method.name}({', '.join(parts)})"


def _section(index: SchemaIndex, method: Method) -> str:
    base = index.documents["sdk-api"]["$id"]
    lines = [f"### {method.name}", "", f"`sdk.{signature(method)}`", "", method.description]
    facts = []
    if method.delivery:
        facts.append(f"Delivery: {_DELIVERY.get(method.delivery, method.delivery)}.")
    if method.sends:
        links = [
            f"[{index.documents[s].get('title', s)}](callbacks.md#"
            f"{anchor(index.documents[s].get('title', s) + ' (' + s + ')')})"
            for s in method.sends
        ]
        facts.append(f"Sends {', '.join(links)}.")
    if method.rank_zero_only:
        facts.append("In multi-process training, a no-op on ranks other than 0.")
    if method.returns:
        facts.append(f"Returns {method.returns}.")
    if facts:
        lines += ["", " ".join(facts)]
    if method.params:
        rows = [
            [
                code(p.name),
                index.type_text(p.schema, base),
                "yes" if p.required else "",
                "" if p.required else code(repr(p.default)),
                p.description,
            ]
            for p in method.params
        ]
        lines += [
            "",
            table(["parameter", "type", "required", "default", "description"], rows),
        ]
    return "\n".join(lines)


def render(index: SchemaIndex) -> str:
    """The page text."""
    overview = table(
        ["method", "what"],
        [[f"[{code(m.name)}](#{anchor(m.name)})", m.description] for m in SDK_METHODS.values()],
    )
    intro = (
        f"{index.documents['sdk-api'].get('description', '')}\n\n"
        "Parameters are listed in positional order (trainers call them positionally too). "
        "Every argument is checked against its schema before anything is sent."
    )
    sections = [
        overview,
        "## Methods\n\n" + "\n\n".join(_section(index, m) for m in SDK_METHODS.values()),
    ]
    return page(TITLE, intro, sections)
