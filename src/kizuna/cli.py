"""The `kizuna` command.

`kizuna <command> [options]` runs one of Kizuna's commands (listed by `kizuna --help`); each
has its own `--help`. Any other Django management command works too, e.g. `kizuna check`.
"""

from __future__ import annotations

import os
import sys

COMMANDS = {
    "demo": "Set up everything, load the demo portfolio and serve it (one command from nothing).",
    "serve": "Serve Kizuna with a production-grade server (and the built-in worker).",
    "worker": "Run a background worker (and the periodic-job scheduler).",
    "migrate": "Create or upgrade the database schema.",
    "createadmin": "Create an admin user, or reset an existing one's password.",
    "seed": "Fill an empty database with a deterministic demo portfolio of N accounts.",
    "sources": "Create, list and disable tracking sources (create prints the write key).",
    "import": "Import accounts, contacts, contracts, opportunities or touchpoints from CSV/Excel.",
    "export": "Export accounts, contacts, contracts, opportunities or touchpoints to CSV/Excel.",
    "apikey": "Create, list and revoke REST API keys (create prints the key once).",
    "usage": "Usage rollups: status, roll up now, rebuild days from the raw events.",
    "health_templates": "Install the seed health scorecards, fields and segments (idempotent).",
}


def usage() -> str:
    lines = ["usage: kizuna <command> [options]", "", "Commands:"]
    lines += [f"  {name:<12} {text}" for name, text in COMMANDS.items()]
    lines += [
        "",
        "Run `kizuna <command> --help` for a command's options. Any Django management command",
        "(check, shell, dbshell, …) also runs as `kizuna <command>`.",
        "Configuration comes from KIZUNA_* environment variables: see docs/configuration.md.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return
    if argv[0] in ("-V", "--version"):
        from kizuna import __version__

        print(f"kizuna {__version__}")
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kizuna.settings")
    from django.core.exceptions import ImproperlyConfigured

    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(["kizuna", *argv])
    except ImproperlyConfigured as exc:
        # A bad KIZUNA_* value: say which and stop, without a traceback.
        print(f"kizuna: configuration error: {exc}", file=sys.stderr)
        sys.exit(2)
