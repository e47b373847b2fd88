"""Meetings (!sitzung)."""

from __future__ import annotations

DE: dict[str, str] = {
    "meeting.created": "📅 Sitzung #{id} angelegt: **{title}** am {when}{place}.",
    "meeting.moved": "📅 Sitzung #{id} **{title}** ist verschoben auf {when}{place}.",
    "meeting.cancelled": "📅 Sitzung #{id} **{title}** am {when} ist abgesagt.",
    "meeting.reminders": "Erinnerungen an den Raum: {times}.",
    "meeting.reminders_none": "Erinnerungen: keine (alle Zeitpunkte liegen schon zurück).",
    "meeting.place": ", Ort: {location}",
    "meeting.reminder": "Erinnerung: Sitzung **{title}** am {when}{place}",
    "meeting.list_title": "**Kommende Sitzungen**",
    "meeting.list_empty": "Es sind keine Sitzungen geplant.",
    "meeting.not_found": "Eine Sitzung #{id} gibt es in diesem Raum nicht.",
    "meeting.already_cancelled": "Sitzung #{id} ist bereits abgesagt.",
    "meeting.in_the_past": "Sitzung #{id} hat bereits begonnen oder liegt zurück.",
    "meeting.no_series": "Eine Sitzung braucht einen festen Termin, keine Wiederholung.",
    "meeting.weekend": "⚠️ Hinweis: Der Termin liegt an einem Wochenende.",
    "meeting.holiday": "⚠️ Hinweis: Der Termin fällt auf einen Feiertag in NRW ({name}).",
    "meeting.need_title": "Bitte geben Sie nach dem Semikolon einen Titel an, z. B. {example}.",
}

EN: dict[str, str] = {
    "meeting.created": "📅 Meeting #{id} created: **{title}** on {when}{place}.",
    "meeting.moved": "📅 Meeting #{id} **{title}** is moved to {when}{place}.",
    "meeting.cancelled": "📅 Meeting #{id} **{title}** on {when} is cancelled.",
    "meeting.reminders": "Reminders to the room: {times}.",
    "meeting.reminders_none": "Reminders: none (all those times have passed).",
    "meeting.place": ", place: {location}",
    "meeting.reminder": "Reminder: meeting **{title}** on {when}{place}",
    "meeting.list_title": "**Upcoming meetings**",
    "meeting.list_empty": "No meetings are planned.",
    "meeting.not_found": "There is no meeting #{id} in this room.",
    "meeting.already_cancelled": "Meeting #{id} is already cancelled.",
    "meeting.in_the_past": "Meeting #{id} has already started or is over.",
    "meeting.no_series": "A meeting needs a fixed date, not a repetition.",
    "meeting.weekend": "⚠️ Note: the date is on a weekend.",
    "meeting.holiday": "⚠️ Note: the date is a public holiday in NRW ({name}).",
    "meeting.need_title": "Please give a title after the semicolon, e.g. {example}.",
}
