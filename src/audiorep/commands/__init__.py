"""Subcommands of the `audiorep` CLI, one module each (discovered by audiorep.cli)."""
