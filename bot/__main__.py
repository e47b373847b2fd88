"""The ``akbot`` command line: run, check, backup, export, identity, demo, --version."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import sys
from pathlib import Path

from bot import __version__
from bot.errors import ConfigError, FatalMatrixError
from bot.settings import Settings, config_path, load_settings

log = logging.getLogger("akbot")


class RedactTokens(logging.Filter):
    """matrix-nio puts the access token into request URLs; no URL may carry it into a log."""

    PATTERN = re.compile(r"(access_token=)[^&\s\"']+")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "access_token=" in message:
            record.msg = self.PATTERN.sub(r"\1<redacted>", message)
            record.args = None
        return True


class JsonLines(logging.Formatter):
    """One JSON object per line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _configure_logging(level: str, log_format: str = "text") -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactTokens())
        if log_format == "json":
            handler.setFormatter(JsonLines())
    # nio logs every undecryptable event and key share at INFO; keep the operator's log readable.
    for noisy in ("nio", "peewee", "apscheduler.scheduler", "apscheduler.executors.default"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


def _load(args: argparse.Namespace) -> Settings:
    return load_settings(config_path(args.config))


def command_run(args: argparse.Namespace) -> int:
    from bot.app import App, run_until_signalled

    settings = _load(args)
    problem = settings.matrix.pickle_key_problem()
    if problem is not None:
        raise ConfigError(problem)
    _configure_logging(args.log_level, settings.bot.log_format)
    try:
        asyncio.run(run_until_signalled(App(settings)))
    except FatalMatrixError as error:
        log.error("stopping: %s", error)
        return 1
    return 0


def command_check(args: argparse.Namespace) -> int:
    from bot.check import run_check

    settings = _load(args)
    _configure_logging("warning")
    return asyncio.run(run_check(settings, sys.stdout))


DEMO_DIR = "demo-data"


def command_demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    _configure_logging(args.log_level)
    # The console is the demo's screen: nio's key-sharing chatter does not belong there.
    logging.getLogger("nio").setLevel(logging.ERROR)
    # Demo identities live and die with demo-data/: no advice to keep their recovery keys safe.
    logging.getLogger("bot.matrix.operator").setLevel(logging.ERROR)
    script = open(args.script, encoding="utf-8") if args.script else None  # noqa: SIM115
    try:
        folder = Path(args.dir)
        if args.federated and args.dir == DEMO_DIR:
            folder = Path(f"{DEMO_DIR}-federated")  # not mixed with the one-server demo's state
        return asyncio.run(run_demo(folder, script, federated=args.federated))
    except KeyboardInterrupt:
        return 0
    finally:
        if script is not None:
            script.close()


def command_backup(args: argparse.Namespace) -> int:
    from bot.operations import backup

    settings = _load(args)
    manifest = backup(settings.bot.data_dir, Path(args.path))
    print(f"Sicherung in {args.path}: {len(manifest['files'])} Dateien (manifest.json)")
    return 0


def command_export(args: argparse.Namespace) -> int:
    from bot.operations import export_all

    settings = _load(args)
    json.dump(export_all(settings.bot.data_dir), sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")
    return 0


def command_identity(args: argparse.Namespace) -> int:
    from bot.matrix import operator

    settings = _load(args)
    _configure_logging("warning")
    action: str = args.action
    if action == "status":
        work = operator.status(settings, sys.stdout)
    elif action == "setup":
        work = operator.setup(settings, args.password_file, sys.stdout)
    elif action == "reset":
        work = operator.reset(settings, args.password_file, args.yes, sys.stdout, sys.stdin)
    elif action == "restore":
        work = operator.restore(settings, args.recovery_key_file, sys.stdout)
    else:
        work = operator.new_recovery_key(settings, sys.stdout)
    return asyncio.run(work)


def _add_identity(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    config_help = "TOML-Datei (sonst $AKBOT_CONFIG oder ./config.toml)"
    stop_first = "Bitte stoppen Sie den Bot vorher."
    identity = sub.add_parser(
        "identity", help="Identität des Bots (Quer-Signierung) / the bot's cross-signing identity"
    )
    actions = identity.add_subparsers(dest="action", required=True)
    status = actions.add_parser(
        "status", help="was der Homeserver zeigt, auch im laufenden Betrieb / what the server shows"
    )
    setup = actions.add_parser(
        "setup", help=f"Identität mit dem Kontopasswort veröffentlichen (bei access_token). {stop_first}"
    )
    setup.add_argument("--password-file", help="Datei mit dem Passwort des Bot-Kontos")
    reset = actions.add_parser("reset", help=f"Identität ersetzen – Mitglieder sehen eine neue. {stop_first}")
    reset.add_argument("--password-file", help="Datei mit dem Passwort (sonst [matrix] password)")
    reset.add_argument("--yes", action="store_true", help="ohne Rückfrage")
    restore = actions.add_parser(
        "restore", help=f"Identität aus dem Schlüsselspeicher übernehmen (neuer Rechner). {stop_first}"
    )
    restore.add_argument(
        "--recovery-key-file", required=True, help="Datei mit dem Wiederherstellungsschlüssel"
    )
    recovery = actions.add_parser(
        "recovery-key", help="neuen Wiederherstellungsschlüssel erzeugen / make a new recovery key"
    )
    for action in (status, setup, reset, restore, recovery):
        action.add_argument("--config", help=config_help)
        action.set_defaults(func=command_identity)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="akbot", description="Matrix-Bot des Facharbeitskreises KI (LVR/LWL)"
    )
    parser.add_argument("--version", action="version", version=f"akbot {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="den Bot starten / run the bot")
    run.add_argument("--config", help="TOML-Datei (sonst $AKBOT_CONFIG oder ./config.toml)")
    run.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    run.set_defaults(func=command_run)

    check = sub.add_parser(
        "check", help="Konfiguration und Verbindungen prüfen / check config and connections"
    )
    check.add_argument("--config", help="TOML-Datei (sonst $AKBOT_CONFIG oder ./config.toml)")
    check.set_defaults(func=command_check)

    backup = sub.add_parser(
        "backup", help="Daten sichern, auch im laufenden Betrieb / back up, also while running"
    )
    backup.add_argument("path", help="leerer Zielordner / empty target folder")
    backup.add_argument("--config", help="TOML-Datei (sonst $AKBOT_CONFIG oder ./config.toml)")
    backup.set_defaults(func=command_backup)

    export = sub.add_parser("export", help="alle Daten als JSON (für den Betrieb) / all state as JSON")
    export.add_argument("--json", action="store_true", required=True, help="als JSON auf die Standardausgabe")
    export.add_argument("--config", help="TOML-Datei (sonst $AKBOT_CONFIG oder ./config.toml)")
    export.set_defaults(func=command_export)

    _add_identity(sub)

    demo = sub.add_parser("demo", help="Demo auf eingebettetem Synapse / demo on an embedded Synapse")
    demo.add_argument("--dir", default=DEMO_DIR, help="Ordner für die Demo (default: demo-data)")
    demo.add_argument(
        "--federated",
        action="store_true",
        help="zwei föderierte Homeserver: Bot und Mitglied bei LVR, Vorsitz bei LWL / two federated homeservers",
    )
    demo.add_argument("--script", help="Datei mit Zeilen, die nacheinander gesendet werden")
    demo.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    demo.set_defaults(func=command_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except ConfigError as error:
        print(f"akbot: Konfigurationsfehler / configuration error: {error}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
