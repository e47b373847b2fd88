"""!status as the chair and members read it."""

from __future__ import annotations

from bot.i18n import format_duration, t
from bot.render import Markdown, code, join
from bot.services import StatusReport


def status(report: StatusReport, lang: str, *, chair: bool) -> Markdown:
    """Where the model runs is for the chair: members see only whether it answers."""
    state = "status.model_ok" if report.model_reachable else "status.model_down"
    if report.model_url is None:
        model = t(lang, "status.model_off")
    elif chair:
        model = t(lang, state, url=report.model_url)
    else:
        model = t(lang, f"{state}_plain")
    rows = [
        (t(lang, "status.version"), code(report.version)),
        (t(lang, "status.uptime"), format_duration(lang, report.uptime_seconds)),
        (t(lang, "status.encryption"), t(lang, "status.on" if report.encryption else "status.off")),
        (t(lang, "status.cross_signed"), t(lang, _cross_signed_key(report.encryption, report.cross_signed))),
        (t(lang, "status.rooms"), Markdown(str(report.rooms))),
        (t(lang, "status.jobs"), Markdown(str(report.jobs))),
        (t(lang, "status.model"), model),
    ]
    if report.questions is not None:
        questions, tokens = report.questions
        rows.append((t(lang, "status.questions"), Markdown(f"{questions} ({tokens} Tokens)")))
    return join([t(lang, "status.title")] + [Markdown(f"- {label}: {value}") for label, value in rows])


def _cross_signed_key(encryption: bool, cross_signed: bool) -> str:
    if not encryption:
        return "status.cross_signed_unused"  # no keys without encryption: "no" would alarm for nothing
    return "status.yes" if cross_signed else "status.no"
