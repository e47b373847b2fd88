"""Texts of the bot itself: usage errors, help, status, language, device trust, durations."""

from __future__ import annotations

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
    "status.questions": "AI questions (24 h)",
    "duration.days": "{n} d",
    "duration.hours": "{n} h",
    "duration.minutes": "{n} min",
    "duration.seconds": "{n} s",
}
