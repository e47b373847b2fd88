"""Times as members type them: what the bot says when it cannot read one (bot.timeparse)."""

from __future__ import annotations

DE: dict[str, str] = {
    "time.unknown": "Die Zeitangabe „{text}“ habe ich nicht verstanden. Beispiele: „morgen um 9“, „Freitag 14:30“, „in 2 Stunden“, „jeden Montag 10 Uhr“.",
    "time.empty": "Bitte geben Sie eine Zeitangabe an, z. B. „morgen um 9“, „Freitag 14:30“ oder „in 2 Stunden“.",
    "time.too_long": "Die Zeitangabe ist zu lang ({length} Zeichen, höchstens {limit}). Beispiele: „morgen um 9“, „Freitag 14:30“, „in 2 Stunden“.",
    "time.no_time": "Bei „{text}“ fehlt die Uhrzeit. Bitte nennen Sie auch die Uhrzeit, z. B. „12.06. 15 Uhr“ oder „morgen um 9“.",
    "time.no_time_rule": "Bei „{text}“ fehlt die Uhrzeit. Bitte nennen Sie auch die Uhrzeit, z. B. „jeden Montag 10 Uhr“ oder „täglich 7:00“.",
    "time.past": "„{text}“ liegt in der Vergangenheit ({reading}). Bitte nennen Sie einen Zeitpunkt in der Zukunft, z. B. „morgen um 9“ oder „in 2 Stunden“.",
    "time.ambiguous_hour": "{early} oder {late}? Bitte schreiben Sie z. B. „heute {example}“.",
    "time.end_of_day": "(Ende des Tages)",
    "time.too_far": "„{text}“ liegt mehr als {years} Jahre in der Zukunft. Bitte nennen Sie einen früheren Zeitpunkt, z. B. „in 2 Wochen“ oder „3. Juli 10 Uhr“.",
    "time.bad_date": "Den {date} gibt es nicht. Beispiele: „12.06. 15 Uhr“, „3. Juli 10 Uhr“.",
    "time.bad_month": "Einen {month}. Monat gibt es nicht. Beispiele: „12.06. 15 Uhr“, „3. Juli 10 Uhr“.",
    "time.bad_time": "Die Uhrzeit „{time}“ gibt es nicht. Beispiele: „14:30“, „9 Uhr“, „3pm“.",
    "time.weekday_mismatch": "Der {date} ist ein {actual}, kein {given}. Bitte prüfen Sie Datum und Wochentag, z. B. „Freitag, 12.06. 15 Uhr“.",
    "time.not_positive": "Die Zeitspanne muss größer als null sein, z. B. „in 10 Minuten“ oder „in 2 Stunden“.",
}

EN: dict[str, str] = {
    "time.unknown": "I did not understand the time “{text}”. Examples: “tomorrow 9am”, “friday 14:30”, “in 2 hours”, “every monday at 10”.",
    "time.empty": "Please give a time, e.g. “tomorrow 9am”, “friday 14:30” or “in 2 hours”.",
    "time.too_long": "The time is too long ({length} characters, at most {limit}). Examples: “tomorrow 9am”, “friday 14:30”, “in 2 hours”.",
    "time.no_time": "“{text}” has no time of day. Please add the time, e.g. “12 June 3pm” or “tomorrow 9am”.",
    "time.no_time_rule": "“{text}” has no time of day. Please add the time, e.g. “every monday at 10” or “daily 7:00”.",
    "time.past": "“{text}” is in the past ({reading}). Please give a time in the future, e.g. “tomorrow 9am” or “in 2 hours”.",
    "time.ambiguous_hour": "{early} or {late}? Please write e.g. “today {example}”.",
    "time.end_of_day": "(end of day)",
    "time.too_far": "“{text}” is more than {years} years ahead. Please give an earlier time, e.g. “in 2 weeks” or “July 3 10am”.",
    "time.bad_date": "There is no {date}. Examples: “12 June 3pm”, “July 3 10am”.",
    "time.bad_month": "There is no month {month}. Examples: “12 June 3pm”, “July 3 10am”.",
    "time.bad_time": "There is no time “{time}”. Examples: “14:30”, “9am”, “3pm”.",
    "time.weekday_mismatch": "{date} is a {actual}, not a {given}. Please check the date and the weekday, e.g. “friday 12 June 3pm”.",
    "time.not_positive": "The time span must be greater than zero, e.g. “in 10 minutes” or “in 2 hours”.",
}
