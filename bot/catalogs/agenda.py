"""The agenda (!top, !tagesordnung)."""

from __future__ import annotations

DE: dict[str, str] = {
    "agenda.no_meeting": "Es ist keine Sitzung geplant, für die Sie einen TOP einreichen könnten.",
    "agenda.not_found": "Einen TOP #{id} gibt es in diesem Raum nicht.",
    "agenda.not_yours": "TOP #{id} hat jemand anderes eingereicht.",
    "agenda.already_decided": "TOP #{id} ist bereits {status}.",
    "agenda.same_meeting": "TOP #{id} gehört schon zu Sitzung #{meeting}.",
    "agenda.not_on_agenda": "TOP #{id} ist nicht angenommen; nur angenommene TOPs haben einen Platz.",
    "agenda.bad_position": "Platz {position} gibt es nicht; möglich sind 1 bis {count}.",
    "agenda.need_title": "Bitte geben Sie einen Titel für den TOP an.",
    "agenda.too_long": "Der Titel darf höchstens {title}, die Beschreibung höchstens {description} Zeichen lang sein.",
    "agenda.bad_duration": "Die Dauer muss zwischen 1 und {high} Minuten liegen, z. B. „20 min“.",
    "agenda.submitted": "TOP #{id} „{title}“ ist für Sitzung #{meeting} ({when}) eingereicht. Der Vorsitz entscheidet.",
    "agenda.submitted_late": (
        "TOP #{id} „{title}“ ist für Sitzung #{meeting} ({when}) nachgereicht – die Einreichfrist endete am "
        "{deadline}. Der Vorsitz entscheidet."
    ),
    "agenda.accepted": "{who}: Ihr TOP #{id} „{title}“ ist angenommen (Platz {position}).",
    "agenda.rejected": "{who}: Ihr TOP #{id} „{title}“ ist abgelehnt.",
    "agenda.rejected_reason": "{who}: Ihr TOP #{id} „{title}“ ist abgelehnt. Grund: {reason}",
    "agenda.deferred": "{who}: Ihr TOP #{id} „{title}“ ist auf Sitzung #{meeting} ({when}) vertagt.",
    "agenda.moved": "TOP #{id} „{title}“ steht jetzt auf Platz {position}.",
    "agenda.withdrawn": "TOP #{id} „{title}“ ist zurückgezogen.",
    "agenda.changed": "TOP #{id} heißt jetzt „{title}“.",
    "agenda.title": "**Tagesordnung: {title}, {when}{place}**",
    "agenda.top": "TOP {number} {title}",
    "agenda.deferred_from": "vertagt von Sitzung #{meeting}",
    "agenda.total": "Geplante Dauer: {total}",
    "agenda.pending_title": "**Noch nicht entschieden** (nur für den Vorsitz sichtbar):",
    "agenda.handed_over": "Die offenen TOPs ({count}) der abgesagten Sitzung stehen jetzt bei Sitzung #{meeting} ({when}).",
    "agenda.left_open": "Die abgesagte Sitzung hatte {count} offene TOPs; es gibt noch keine nächste Sitzung für sie.",
    "agenda.deadline_reminder": (
        "Erinnerung: TOPs für die Sitzung **{title}** können bis {deadline} eingereicht werden – mit {command}."
    ),
    "agenda.exported": "Die Tagesordnung als Markdown- und OParl-Datei.",
}

EN: dict[str, str] = {
    "agenda.no_meeting": "No meeting is planned that you could submit an item for.",
    "agenda.not_found": "There is no item #{id} in this room.",
    "agenda.not_yours": "Item #{id} was submitted by someone else.",
    "agenda.already_decided": "Item #{id} is already {status}.",
    "agenda.same_meeting": "Item #{id} already belongs to meeting #{meeting}.",
    "agenda.not_on_agenda": "Item #{id} is not accepted; only accepted items have a place.",
    "agenda.bad_position": "There is no place {position}; choose 1 to {count}.",
    "agenda.need_title": "Please give the item a title.",
    "agenda.too_long": "The title may have at most {title}, the description at most {description} characters.",
    "agenda.bad_duration": "The duration must be between 1 and {high} minutes, e.g. “20 min”.",
    "agenda.submitted": "Item #{id} “{title}” is submitted for meeting #{meeting} ({when}). The chair decides.",
    "agenda.submitted_late": (
        "Item #{id} “{title}” is submitted late for meeting #{meeting} ({when}) – the deadline was {deadline}. "
        "The chair decides."
    ),
    "agenda.accepted": "{who}: your item #{id} “{title}” is accepted (place {position}).",
    "agenda.rejected": "{who}: your item #{id} “{title}” is rejected.",
    "agenda.rejected_reason": "{who}: your item #{id} “{title}” is rejected. Reason: {reason}",
    "agenda.deferred": "{who}: your item #{id} “{title}” is deferred to meeting #{meeting} ({when}).",
    "agenda.moved": "Item #{id} “{title}” is now at place {position}.",
    "agenda.withdrawn": "Item #{id} “{title}” is withdrawn.",
    "agenda.changed": "Item #{id} is now called “{title}”.",
    "agenda.title": "**Agenda: {title}, {when}{place}**",
    "agenda.top": "Item {number} {title}",
    "agenda.deferred_from": "deferred from meeting #{meeting}",
    "agenda.total": "Planned duration: {total}",
    "agenda.pending_title": "**Not decided yet** (visible to the chair only):",
    "agenda.handed_over": "The open items ({count}) of the cancelled meeting now stand with meeting #{meeting} ({when}).",
    "agenda.left_open": "The cancelled meeting had {count} open items; there is no next meeting for them yet.",
    "agenda.deadline_reminder": "Reminder: items for the meeting **{title}** can be submitted until {deadline} – with {command}.",
    "agenda.exported": "The agenda as a Markdown and an OParl file.",
}
