"""Reminders (!erinnerung, !erinnerungen)."""

from __future__ import annotations

DE: dict[str, str] = {
    "reminder.personal": "Erinnerung für {who}: {text}",
    "reminder.room": "Erinnerung: {text}",
    "reminder.room_by": "Erinnerung von {who}: {text}",
    "reminder.list_more": "… und {count} weitere, die später fällig sind.",
    "reminder.list_more.one": "… und eine weitere, die später fällig ist.",
    "reminder.also_for": "Auch für: {who}",
    "reminder.too_many_room": "Sie haben hier bereits {limit} aktive Raum-Erinnerungen (mehr kann nur der Vorsitz). Bitte löschen Sie zuerst eine mit `!erinnerung löschen <Nr>`.",
    "reminder.reply_to_join": "Bitte antworten Sie mit `!ich auch` auf eine Erinnerung (ihren Befehl, die Bestätigung oder die Erinnerung selbst).",
    "reminder.join_over": "Diese Erinnerung ist schon vorbei.",
    "reminder.join_own": "Erinnerung #{id} ist Ihre eigene; Sie werden ohnehin erinnert.",
    "reminder.joined": "Sie werden mit erinnert: #{id} am {when} – {text}",
    "reminder.reply_to_snooze": "Bitte antworten Sie mit `!später` (z. B. `!später 15 min`) auf die Erinnerung, die gerade kam.",
    "reminder.snooze_once": "`!später` verschiebt einmal; für Wiederholungen nutzen Sie `!erinnerung`.",
    "reminder.snooze_default": "in 15 Minuten",
    "reminder.snooze_in": "in",
    "reminder.snoozed": "Ich erinnere Sie noch einmal am {when}: {text}",
    "cmd.snooze.help": "Als Antwort auf eine Erinnerung: erinnert Sie später noch einmal (Standard 15 Minuten).",
    "cmd.snooze.usage": "[<Dauer oder wann>]",
    "cmd.me.help": "Als Antwort auf eine Erinnerung: !ich auch erwähnt Sie mit, wenn sie fällig ist.",
    "cmd.me.too.help": "Als Antwort auf eine Erinnerung: Sie werden mit erwähnt, wenn sie fällig ist.",
    "reminder.late": "(verspätet – fällig war {due})",
    "reminder.missed_title": (
        "Während der Bot nicht erreichbar war, sind diese Erinnerungen zu lange überfällig geworden ({count}):"
    ),
    "reminder.too_many": "Sie haben bereits {limit} aktive Erinnerungen. Bitte löschen Sie zuerst welche.",
    "reminder.not_found": "Eine aktive Erinnerung #{id} gibt es in diesem Raum nicht.",
    "reminder.not_yours": "Erinnerung #{id} hat jemand anderes angelegt; löschen kann sie nur der Vorsitz.",
    "reminder.belongs_to_meeting": (
        "Erinnerung #{id} gehört zu Sitzung #{meeting} und folgt ihr. "
        "Verschieben Sie die Sitzung oder sagen Sie sie ab."
    ),
    "reminder.confirm_once": "Ich erinnere Sie am {when}: {text}",
    "reminder.confirm_series": "Ich erinnere Sie {when}: {text}",
    "reminder.confirm_room_once": "Ich erinnere den Raum am {when}: {text}",
    "reminder.confirm_room_series": "Ich erinnere den Raum {when}: {text}",
    "reminder.id_note": "(Nr. {id} – löschen mit {command})",
    "reminder.no_room_ping": "Hinweis: Nur der Vorsitz kann mit @room alle benachrichtigen; diese Erinnerung kommt ohne.",
    "reminder.list_own": "**Ihre Erinnerungen**",
    "reminder.list_room": "**Erinnerungen in diesem Raum**",
    "reminder.list_empty_own": "Sie haben in diesem Raum keine aktiven Erinnerungen.",
    "reminder.list_empty_room": "In diesem Raum gibt es keine aktiven Erinnerungen.",
    "reminder.kind_room": "Raum",
    "reminder.kind_meeting": "Sitzung",
    "reminder.deleted": "Erinnerung #{id} gelöscht: {text}",
    "reminder.need_semicolon": "Bitte trennen Sie Zeitpunkt und Text mit einem Semikolon, z. B. {example}.",
    "reminder.need_text": "Bitte schreiben Sie nach dem Semikolon, woran ich erinnern soll.",
    "reminder.kind_agenda_deadline": "Einreichfrist TOPs",
    "reminder.kind_agenda": "Tagesordnung",
    "cmd.remind.help": "Erinnert Sie persönlich, z. B. „!erinnerung morgen um 9; Bericht schicken“.",
    "cmd.remind.usage": "<wann>; <Text>",
    "cmd.remind.room.help": "Erinnert den ganzen Raum; beim Vorsitz mit @room-Benachrichtigung.",
    "cmd.remind.room.usage": "<wann>; <Text>",
    "cmd.remind.delete.help": "Löscht eine eigene Erinnerung (der Vorsitz: jede).",
    "cmd.remind.delete.usage": "<id>",
    "cmd.reminders.help": "Ihre Erinnerungen mit Nummer, nächstem Termin und Wiederholung (der Vorsitz sieht alle im Raum).",
    "reminder.example_personal": "morgen um 9; Bericht",
    "reminder.example_room": "Freitag 10 Uhr; Tagesordnung",
    "cmd.remind.delete.missing.id": "die Nummer der Erinnerung (siehe `!erinnerungen`)",
    "cmd.remind.details": (
        "Zeiten, wie man sie sagt: „morgen 9 Uhr“, „in 2 Stunden“, „Freitag 14:30“, „12.06. 15 Uhr“, "
        "„um halb 10“, „viertel nach 3“, „nächste Woche Dienstag 11 Uhr“, „am 15. um 9“. "
        "Wiederholt: „jeden Montag 9 Uhr“, „werktags 8 Uhr“, „alle 2 Wochen Mittwoch 10 Uhr“, "
        "„jeden ersten Montag im Monat 10 Uhr“, „monatlich am 15. 9 Uhr“. Immer mit Uhrzeit."
    ),
}

EN: dict[str, str] = {
    "reminder.personal": "Reminder for {who}: {text}",
    "reminder.room": "Reminder: {text}",
    "reminder.room_by": "Reminder from {who}: {text}",
    "reminder.list_more": "… and {count} more, due later.",
    "reminder.list_more.one": "… and one more, due later.",
    "reminder.also_for": "Also for: {who}",
    "reminder.too_many_room": "You already have {limit} active room reminders here (only the chair can set more). Please delete one first with `!remind delete <no.>`.",
    "reminder.reply_to_join": "Please reply `!me too` to a reminder (its command, the confirmation or the reminder itself).",
    "reminder.join_over": "This reminder is already over.",
    "reminder.join_own": "Reminder #{id} is your own; you will be reminded anyway.",
    "reminder.joined": "You will be reminded too: #{id} on {when} – {text}",
    "reminder.reply_to_snooze": "Please reply `!snooze` (e.g. `!snooze 15 min`) to the reminder that just came.",
    "reminder.snooze_once": "`!snooze` moves once; for repetitions use `!remind`.",
    "reminder.snooze_default": "in 15 minutes",
    "reminder.snooze_in": "in",
    "reminder.snoozed": "I will remind you again on {when}: {text}",
    "cmd.snooze.help": "As a reply to a reminder: reminds you again later (15 minutes by default).",
    "cmd.snooze.usage": "[<duration or when>]",
    "cmd.me.help": "As a reply to a reminder: !me too mentions you with it when it is due.",
    "cmd.me.too.help": "As a reply to a reminder: you are mentioned with it when it is due.",
    "reminder.late": "(late – was due {due})",
    "reminder.missed_title": "While the bot was unavailable, these reminders became too overdue ({count}):",
    "reminder.too_many": "You already have {limit} active reminders. Please delete some first.",
    "reminder.not_found": "There is no active reminder #{id} in this room.",
    "reminder.not_yours": "Reminder #{id} was set by someone else; only the chair can delete it.",
    "reminder.belongs_to_meeting": (
        "Reminder #{id} belongs to meeting #{meeting} and follows it. Move or cancel the meeting instead."
    ),
    "reminder.confirm_once": "I will remind you on {when}: {text}",
    "reminder.confirm_series": "I will remind you {when}: {text}",
    "reminder.confirm_room_once": "I will remind the room on {when}: {text}",
    "reminder.confirm_room_series": "I will remind the room {when}: {text}",
    "reminder.id_note": "(no. {id} – delete with {command})",
    "reminder.no_room_ping": "Note: only the chair can notify everyone with @room; this reminder comes without.",
    "reminder.list_own": "**Your reminders**",
    "reminder.list_room": "**Reminders in this room**",
    "reminder.list_empty_own": "You have no active reminders in this room.",
    "reminder.list_empty_room": "There are no active reminders in this room.",
    "reminder.kind_room": "room",
    "reminder.kind_meeting": "meeting",
    "reminder.deleted": "Reminder #{id} deleted: {text}",
    "reminder.need_semicolon": "Please separate the time and the text with a semicolon, e.g. {example}.",
    "reminder.need_text": "Please write after the semicolon what I should remind of.",
    "reminder.kind_agenda_deadline": "agenda deadline",
    "reminder.kind_agenda": "agenda",
    "cmd.remind.help": "Reminds you personally, e.g. “!remind tomorrow 9am; send the report”.",
    "cmd.remind.usage": "<when>; <text>",
    "cmd.remind.room.help": "Reminds the whole room; with an @room notification when set by the chair.",
    "cmd.remind.room.usage": "<when>; <text>",
    "cmd.remind.delete.help": "Deletes one of your reminders (the chair: any).",
    "cmd.remind.delete.usage": "<id>",
    "cmd.reminders.help": "Your reminders with number, next time and repetition (the chair sees all in the room).",
    "reminder.example_personal": "tomorrow 9am; send the report",
    "reminder.example_room": "friday 10am; agenda",
    "cmd.remind.delete.missing.id": "the number of the reminder (see `!reminders`)",
    "cmd.remind.details": (
        "Times as people say them: “tomorrow 9am”, “in 2 hours”, “Friday 14:30”, “12.06. 3pm”, "
        "“next Tuesday 11am”, “on the 15th at 9”. Repeating: “every Monday 9am”, “weekdays 8am”, "
        "“every other Wednesday 10am”, “every first Monday of the month 10am”, “monthly on the 15th 9am”. "
        "Always with a time of day."
    ),
}
