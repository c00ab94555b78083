"""Subcommands of `trainer-sdk` (see trainer_tools.cli)."""
