"""Message catalogs: German (default, formal "Sie") and English.

Texts are Markdown. Parameters are inserted with ``str.format``; anything a member typed must be
passed through ``bot.render.escape`` (``t`` does it for every parameter unless it is ``Markdown``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from bot.render import Markdown, escape

Language = Literal["de", "en"]
LANGUAGES: tuple[Language, ...] = ("de", "en")

DE: dict[str, str] = {
    "plain": "{text}",
    "unknown_command": "Den Befehl {command} kenne ich nicht. Meinten Sie {suggestion}?",
    "usage.line": "Aufruf: {usage}",
    "usage.generic": "Die Angaben passen nicht zu diesem Befehl.",
    "usage.not_a_number": "„{value}“ ist keine Zahl.",
    "usage.too_many": "Zu viele Angaben: „{value}“ ist überzählig.",
    "usage.missing": "Es fehlt noch: {name}.",
    "usage.choice": "„{value}“ ist nicht möglich. Erlaubt: {choices}.",
    "chair_only": "Diesen Befehl darf nur der Vorsitz verwenden.",
    "internal_error": (
        "Das hat leider nicht geklappt – ein interner Fehler ist aufgetreten. "
        "Bitte nennen Sie dem Betrieb die Fehlernummer {error_id}."
    ),
    "too_long": "Ihre Nachricht ist zu lang ({length} Zeichen, höchstens {limit}).",
    "ping.pong": "pong – Bearbeitungszeit {ms} ms",
    "flood.slow_down": "Bitte etwas langsamer – weitere Befehle von Ihnen beachte ich {seconds} Sekunden lang nicht.",
    "help.title": "**Befehle von akbot**",
    "help.footer": "Mehr zu einem Befehl: {command}. ★ = nur für den Vorsitz.",
    "help.unknown": "Zu {name} gibt es keine Hilfe. Alle Befehle: {command}.",
    "help.usage": "Aufruf",
    "help.alias": "Englisch",
    "help.subcommands": "Unterbefehle",
    "help.chair_only": "nur für den Vorsitz",
    "status.title": "**Status von akbot**",
    "status.version": "Version",
    "status.uptime": "Laufzeit",
    "status.encryption": "Verschlüsselung",
    "status.on": "an",
    "status.off": "aus",
    "status.rooms": "Betreute Räume",
    "status.jobs": "Geplante Aufgaben",
    "status.model": "Sprachmodell",
    "status.model_off": "nicht eingerichtet",
    "status.model_ok": "erreichbar ({url})",
    "status.model_down": "nicht erreichbar ({url})",
    "language.set": "Ich antworte in diesem Raum ab jetzt auf Deutsch.",
    "language.current": "Sprache in diesem Raum: Deutsch. Ändern mit {command}.",
    "reminder.personal": "⏰ Erinnerung für {who}: {text}",
    "reminder.room": "⏰ Erinnerung: {text}",
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
    "poll.need_question": "Bitte beginnen Sie mit der Frage, dann die Optionen, jeweils mit Semikolon getrennt.",
    "poll.option_count": "Eine Umfrage braucht {low} bis {high} Optionen; angegeben waren {count}.",
    "poll.deadline_series": "Die Frist muss ein fester Zeitpunkt sein, keine Wiederholung.",
    "poll.not_found": "Eine Umfrage #{id} gibt es in diesem Raum nicht.",
    "poll.none_open": "In diesem Raum ist keine Umfrage offen.",
    "poll.none": "In diesem Raum gibt es noch keine Umfrage.",
    "poll.closed": "Umfrage #{id} ist bereits beendet; Stimmen zählen nicht mehr.",
    "poll.no_such_option": "Umfrage #{poll} hat keine Option {number} (Optionen 1 bis {count}).",
    "poll.option_out_of_range": "Option {number} gibt es nicht; wählbar sind 1 bis {count}.",
    "poll.bad_selection": "„{token}“ verstehe ich nicht. Beispiel: „1 3 4?“ – Nummern, ? für „wenn nötig“, oder „keine“.",
    "poll.fallback_title": "Terminumfrage: {question}",
    "poll.how_to_vote": "Abstimmen per Text: {example} (Nummern; ? = wenn nötig; keine = nichts passt)",
    "poll.summary_title": "**Umfrage #{id}: {question}** ({state})",
    "poll.state_open": "offen",
    "poll.state_closed": "beendet",
    "poll.state_withdrawn": "zurückgezogen",
    "poll.deadline": "Frist: {when}",
    "poll.option_line": "Option {number}: {label}",
    "poll.counts": "{yes} ja, {maybe} wenn nötig",
    "poll.names_yes": "ja: {names}",
    "poll.names_maybe": "wenn nötig: {names}",
    "poll.voted_count": "Abgestimmt: {voted} · noch offen: {missing}",
    "poll.standing_title": "**Stand der Umfrage #{id}: {question}**",
    "poll.not_voted": "Noch nicht abgestimmt: {names}",
    "poll.everyone_voted": "Alle haben abgestimmt.",
    "poll.vote_none": "Ihre Stimme zu Umfrage #{id}: keine Option passt.",
    "poll.vote_yes": "{number} ({label}): ja",
    "poll.vote_maybe": "{number} ({label}): wenn nötig",
    "poll.vote_recorded": "Ihre Stimme zu Umfrage #{id}: {choices}",
    "poll.nudge": "{who}: Bitte stimmen Sie noch ab – Umfrage #{id} „{question}“. {deadline}",
    "poll.nudged": "Erinnert: {count} Mitglieder haben noch nicht abgestimmt.",
    "poll.nudged_none": "Alle haben bereits abgestimmt; niemand zu erinnern.",
    "poll.result_title": "**Ergebnis der Umfrage #{id}: {question}**",
    "poll.winner": "Gewählt: Option {number}: {label}",
    "poll.no_winner": "Umfrage #{id} ist beendet; keine Option hat Stimmen erhalten.",
    "poll.withdrawn_end": "Diese Umfrage wurde zurückgezogen.",
    "poll.withdrawn": "Umfrage #{id} ist zurückgezogen.",
    "poll.closed_ok": "Umfrage #{id} ist beendet; das Ergebnis steht oben.",
    "poll.created": "Umfrage #{id} ist gestartet.",
    "poll.meeting_created": "Der gewählte Termin ist jetzt Sitzung #{id}.",
    "poll.list_title": "**Offene Umfragen**",
    "poll.list_empty": "In diesem Raum ist keine Umfrage offen.",
    "poll.list_line": "#{id} · {question} · {voted} Stimmen",
    "reminder.kind_agenda_deadline": "Einreichfrist TOPs",
    "reminder.kind_agenda": "Tagesordnung",
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
    "llm.not_configured": "Es ist kein Sprachmodell eingerichtet. Bitte wenden Sie sich an den Betrieb.",
    "llm.queued": "Die KI ist ausgelastet – Sie sind Nr. {position} in der Warteschlange.",
    "llm.queue_full": "Die KI ist ausgelastet und die Warteschlange ist voll. Bitte versuchen Sie es gleich noch einmal.",
    "llm.rate_limited": "Sie haben das Limit von {count} Fragen erreicht. Bitte versuchen Sie es in etwa {minutes} Min. wieder.",
    "llm.label": "KI-generiert · lokales Modell {model} · keine verbindliche Auskunft",
    "llm.error_refused": "Das Sprachmodell ist gerade nicht erreichbar. Bitte versuchen Sie es später noch einmal.",
    "llm.error_timeout": "Das Sprachmodell hat nicht rechtzeitig geantwortet. Bitte versuchen Sie es später noch einmal.",
    "llm.error_http": "Das Sprachmodell hat einen Fehler gemeldet. Der Betrieb ist informiert (Protokoll).",
    "llm.error_malformed": "Die Antwort des Sprachmodells war fehlerhaft und wurde verworfen.",
    "llm.error_empty": "Das Sprachmodell hat keine Antwort geliefert. Bitte formulieren Sie die Frage anders.",
    "llm.models_title": "**Modelle des lokalen Endpunkts** (✓ = in diesem Raum)",
    "llm.unknown_model": "Das Modell „{name}“ gibt es am Endpunkt nicht. Verfügbar: {available}",
    "llm.model_set": "In diesem Raum antwortet jetzt das Modell „{name}“.",
    "status.cross_signed": "Gerät quer-signiert",
    "status.yes": "ja",
    "status.no": "nein",
    "trust.unsigned_device": (
        "Ich habe Ihren Befehl im Raum nicht ausgeführt: Er kam von einem Gerät, das Sie nicht "
        "verifiziert haben ({device}). Bitte bestätigen Sie dieses Gerät von einem Ihrer anderen Geräte "
        "aus oder mit Ihrem Wiederherstellungsschlüssel (in Element: Einstellungen → Sitzungen). Danach "
        "nehme ich Ihre Befehle von dort wieder an."
    ),
    "trust.undecryptable": (
        "Ihre Nachricht im Raum konnte nicht entschlüsselt werden, deshalb habe ich sie nicht "
        "bearbeitet. Bitte senden Sie sie noch einmal. Wenn das wieder geschieht, prüfen Sie, ob Ihr Gerät "
        "verifiziert ist (in Element: Einstellungen → Sitzungen)."
    ),
    "status.questions": "KI-Fragen (24 Std.)",
    "privacy.notice": (
        "**Datenschutz bei akbot**  \n"
        "Gespeichert wird nur, was der Bot für seine Aufgaben braucht, in einer SQLite-Datenbank auf dem Server "
        "des Betriebs (nicht in einer Cloud): Erinnerungen (Text, Zeit, wer sie angelegt hat), Umfragen und "
        "Stimmen, Sitzungen, eingereichte TOPs (mit Name und Organisation), ein Protokoll der Aktionen des "
        "Vorsitzes, und für KI-Fragen nur Zähler (wer, wann, wie viele Tokens) – nie Frage oder Antwort. "
        "Nachrichten im Raum bleiben Ende-zu-Ende-verschlüsselt.  \n"
        "Aufbewahrung: beendete Umfragen, vergangene Sitzungen, gesendete Erinnerungen, Zähler und "
        "Protokolleinträge werden nach {retention} gelöscht.  \n"
        "Ihre Daten: {mydata} schickt sie Ihnen als Datei; {forget} löscht bzw. anonymisiert sie."
    ),
    "privacy.sent_privately": "Ich schicke Ihnen Ihre Daten gleich als Datei in einem direkten, verschlüsselten Raum.",
    "privacy.private_note": "Ihre bei akbot gespeicherten Daten (JSON).",
    "privacy.confirm_forget": (
        "Damit lösche ich Ihre Erinnerungen und Zähler und ersetze Ihren Namen in Stimmen und TOPs durch "
        "„ehemaliges Mitglied“ (Ergebnisse bleiben richtig). Das lässt sich nicht rückgängig machen. "
        "Bestätigen Sie innerhalb von 10 Minuten mit {command}."
    ),
    "privacy.nothing_to_confirm": "Es liegt kein Löschwunsch von Ihnen vor. Beginnen Sie mit !vergessen.",
    "privacy.forgotten": (
        "Erledigt: {reminders} Erinnerungen gelöscht, {votes} Stimmen und {items} TOPs anonymisiert."
    ),
    "audit.title": "**Protokoll des Vorsitzes** (neueste zuerst)",
    "audit.empty": "Das Protokoll ist leer.",
    "privacy.purged": "Aufbewahrungsfrist: {count} alte Einträge gelöscht.",
    "duration.days": "{n} T.",
    "duration.hours": "{n} Std.",
    "duration.minutes": "{n} Min.",
    "duration.seconds": "{n} Sek.",
}

EN: dict[str, str] = {
    "plain": "{text}",
    "unknown_command": "I don't know the command {command}. Did you mean {suggestion}?",
    "usage.line": "Usage: {usage}",
    "usage.generic": "These arguments do not fit this command.",
    "usage.not_a_number": "“{value}” is not a number.",
    "usage.too_many": "Too many arguments: “{value}” is left over.",
    "usage.missing": "Missing: {name}.",
    "usage.choice": "“{value}” is not possible. Allowed: {choices}.",
    "chair_only": "Only the chair may use this command.",
    "internal_error": (
        "Sorry, that did not work – an internal error occurred. "
        "Please give the operators the error id {error_id}."
    ),
    "too_long": "Your message is too long ({length} characters, at most {limit}).",
    "ping.pong": "pong – processing time {ms} ms",
    "flood.slow_down": "Please slow down – I will ignore further commands from you for {seconds} seconds.",
    "help.title": "**akbot commands**",
    "help.footer": "More about a command: {command}. ★ = chair only.",
    "help.unknown": "There is no help for {name}. All commands: {command}.",
    "help.usage": "Usage",
    "help.alias": "German",
    "help.subcommands": "Subcommands",
    "help.chair_only": "chair only",
    "status.cross_signed": "Device cross-signed",
    "status.yes": "yes",
    "status.no": "no",
    "trust.unsigned_device": (
        "I did not carry out your command in the room: it came from a device you have not verified "
        "({device}). Please verify this device from one of your other devices or with your recovery key "
        "(in Element: Settings → Sessions). After that I will accept your commands from it again."
    ),
    "trust.undecryptable": (
        "Your message in the room could not be decrypted, so I did not act on it. Please send it again. "
        "If that happens again, check that your device is verified (in Element: Settings → Sessions)."
    ),
    "status.title": "**akbot status**",
    "status.version": "Version",
    "status.uptime": "Uptime",
    "status.encryption": "Encryption",
    "status.on": "on",
    "status.off": "off",
    "status.rooms": "Rooms served",
    "status.jobs": "Scheduled jobs",
    "status.model": "Language model",
    "status.model_off": "not configured",
    "status.model_ok": "reachable ({url})",
    "status.model_down": "not reachable ({url})",
    "language.set": "From now on I answer in English in this room.",
    "language.current": "Language in this room: English. Change with {command}.",
    "reminder.personal": "⏰ Reminder for {who}: {text}",
    "reminder.room": "⏰ Reminder: {text}",
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
    "poll.need_question": "Please start with the question, then the options, separated by semicolons.",
    "poll.option_count": "A poll needs {low} to {high} options; {count} were given.",
    "poll.deadline_series": "The deadline must be a single point in time, not a repetition.",
    "poll.not_found": "There is no poll #{id} in this room.",
    "poll.none_open": "There is no open poll in this room.",
    "poll.none": "There is no poll in this room yet.",
    "poll.closed": "Poll #{id} has ended; votes no longer count.",
    "poll.no_such_option": "Poll #{poll} has no option {number} (options 1 to {count}).",
    "poll.option_out_of_range": "There is no option {number}; choose 1 to {count}.",
    "poll.bad_selection": "I do not understand “{token}”. Example: “1 3 4?” – numbers, ? for “if need be”, or “none”.",
    "poll.fallback_title": "Date poll: {question}",
    "poll.how_to_vote": "Vote by text: {example} (numbers; ? = if need be; none = nothing fits)",
    "poll.summary_title": "**Poll #{id}: {question}** ({state})",
    "poll.state_open": "open",
    "poll.state_closed": "closed",
    "poll.state_withdrawn": "withdrawn",
    "poll.deadline": "Deadline: {when}",
    "poll.option_line": "Option {number}: {label}",
    "poll.counts": "{yes} yes, {maybe} if need be",
    "poll.names_yes": "yes: {names}",
    "poll.names_maybe": "if need be: {names}",
    "poll.voted_count": "Voted: {voted} · still missing: {missing}",
    "poll.standing_title": "**Standing of poll #{id}: {question}**",
    "poll.not_voted": "Not voted yet: {names}",
    "poll.everyone_voted": "Everyone has voted.",
    "poll.vote_none": "Your vote on poll #{id}: no option fits.",
    "poll.vote_yes": "{number} ({label}): yes",
    "poll.vote_maybe": "{number} ({label}): if need be",
    "poll.vote_recorded": "Your vote on poll #{id}: {choices}",
    "poll.nudge": "{who}: please vote – poll #{id} “{question}”. {deadline}",
    "poll.nudged": "Reminded: {count} members have not voted yet.",
    "poll.nudged_none": "Everyone has voted already; nobody to remind.",
    "poll.result_title": "**Result of poll #{id}: {question}**",
    "poll.winner": "Chosen: option {number}: {label}",
    "poll.no_winner": "Poll #{id} has ended; no option received votes.",
    "poll.withdrawn_end": "This poll was withdrawn.",
    "poll.withdrawn": "Poll #{id} is withdrawn.",
    "poll.closed_ok": "Poll #{id} is closed; the result is above.",
    "poll.created": "Poll #{id} has started.",
    "poll.meeting_created": "The chosen date is now meeting #{id}.",
    "poll.list_title": "**Open polls**",
    "poll.list_empty": "There is no open poll in this room.",
    "poll.list_line": "#{id} · {question} · {voted} votes",
    "reminder.kind_agenda_deadline": "agenda deadline",
    "reminder.kind_agenda": "agenda",
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
    "llm.not_configured": "No language model is set up. Please contact the operators.",
    "llm.queued": "The AI is busy – you are no. {position} in the queue.",
    "llm.queue_full": "The AI is busy and the queue is full. Please try again in a moment.",
    "llm.rate_limited": "You have reached the limit of {count} questions. Please try again in about {minutes} min.",
    "llm.label": "AI-generated · local model {model} · not an authoritative answer",
    "llm.error_refused": "The language model cannot be reached right now. Please try again later.",
    "llm.error_timeout": "The language model did not answer in time. Please try again later.",
    "llm.error_http": "The language model reported an error. The operators can see it in the log.",
    "llm.error_malformed": "The language model's answer was malformed and was discarded.",
    "llm.error_empty": "The language model gave no answer. Please rephrase the question.",
    "llm.models_title": "**Models of the local endpoint** (✓ = in this room)",
    "llm.unknown_model": "The endpoint has no model “{name}”. Available: {available}",
    "llm.model_set": "In this room the model “{name}” answers from now on.",
    "status.questions": "AI questions (24 h)",
    "privacy.notice": (
        "**Data protection in akbot**  \n"
        "Only what the bot needs is stored, in an SQLite database on the operators' server (not in a cloud): "
        "reminders (text, time, who set them), polls and votes, meetings, submitted agenda items (with name and "
        "organisation), a log of chair actions, and for AI questions only counters (who, when, how many "
        "tokens) – never the question or the answer. Messages in the room stay end-to-end encrypted.  \n"
        "Retention: ended polls, past meetings, sent reminders, counters and log entries are deleted after "
        "{retention}.  \n"
        "Your data: {mydata} sends it to you as a file; {forget} deletes or anonymises it."
    ),
    "privacy.sent_privately": "I am sending you your data as a file in a direct, encrypted room.",
    "privacy.private_note": "Your data stored by akbot (JSON).",
    "privacy.confirm_forget": (
        "This deletes your reminders and counters and replaces your name in votes and agenda items by "
        "“ehemaliges Mitglied” (results stay right). It cannot be undone. Confirm within 10 minutes with {command}."
    ),
    "privacy.nothing_to_confirm": "There is no request of yours to confirm. Start with !forget.",
    "privacy.forgotten": "Done: {reminders} reminders deleted, {votes} votes and {items} agenda items anonymised.",
    "audit.title": "**Chair log** (newest first)",
    "audit.empty": "The log is empty.",
    "privacy.purged": "Retention: {count} old records deleted.",
    "duration.days": "{n} d",
    "duration.hours": "{n} h",
    "duration.minutes": "{n} min",
    "duration.seconds": "{n} s",
}

CATALOGS: Mapping[Language, Mapping[str, str]] = {"de": DE, "en": EN}


def t(lang: str, key: str, **params: Any) -> Markdown:
    """The text for ``key`` in ``lang`` (German when missing), parameters escaped for Markdown."""
    catalog = CATALOGS[as_language(lang)]
    template = catalog.get(key) or DE.get(key) or key
    safe = {
        name: value if isinstance(value, Markdown) else escape(str(value)) for name, value in params.items()
    }
    return Markdown(template.format(**safe))


def as_language(value: str | None, default: Language = "de") -> Language:
    if value == "en":
        return "en"
    if value == "de":
        return "de"
    return default


def format_duration(lang: str, seconds: float) -> Markdown:
    """A short human duration like "2 T. 3 Std. 4 Min."."""
    remaining = int(seconds)
    parts = []
    for key, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        amount, remaining = divmod(remaining, size)
        if amount:
            parts.append(t(lang, f"duration.{key}", n=amount))
    if not parts:
        parts.append(t(lang, "duration.seconds", n=remaining))
    return Markdown(" ".join(parts))
