"""Codegen targets: each module defines `generate(ctx) -> {relative path: text}`."""
