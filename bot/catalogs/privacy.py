"""Data protection and the chair's audit log (!datenschutz, !meinedaten, !vergessen, !audit)."""

from __future__ import annotations

DE: dict[str, str] = {
    "privacy.notice": (
        "**Datenschutz bei akbot**  \n"
        "Gespeichert wird nur, was der Bot für seine Aufgaben braucht, in einer SQLite-Datenbank auf dem Server "
        "des Betriebs (nicht in einer Cloud): Erinnerungen (Text, Zeit, wer sie angelegt hat), Umfragen und "
        "Stimmen, Sitzungen, eingereichte TOPs (mit Name und Organisation), Ihr Profil (Interessengruppen, Organisation), ein Protokoll der Aktionen des "
        "Vorsitzes, und für KI-Fragen nur Zähler (wer, wann, wie viele Tokens) – nie Frage oder Antwort. "
        "Aus Sitzungen nur die Einträge (Beschlüsse, Aufgaben, Notizen), die Anwesenheit (wer geschrieben oder "
        "sich gemeldet hat, nicht was) und die Niederschrift – nie der Chat. Für `!frage` werden diese Unterlagen "
        "und vom Vorsitz hinzugefügte Dokumente (ihr Text) in der Datenbank durchsuchbar gehalten. "
        "Nachrichten im Raum bleiben Ende-zu-Ende-verschlüsselt.  \n"
        "Aufbewahrung: beendete Umfragen, vergangene Sitzungen ohne Niederschrift, gesendete Erinnerungen, "
        "Zähler, Protokolleinträge und Dokumente werden gelöscht, sobald sie älter als {retention} sind; Niederschriften "
        "und Beschlüsse bleiben als Akte des Arbeitskreises.  \n"
        "Ihre Daten: {mydata} schickt sie Ihnen als Datei; {forget} löscht bzw. anonymisiert sie."
    ),
    "privacy.sent_privately": "Ich schicke Ihnen Ihre Daten gleich als Datei in einem direkten, verschlüsselten Raum.",
    "privacy.private_note": "Ihre bei akbot gespeicherten Daten (JSON).",
    "privacy.confirm_forget": (
        "Damit lösche ich Ihre Erinnerungen, Zähler und Anwesenheiten und ersetze Ihren Namen in Stimmen, TOPs "
        "und Protokolleinträgen durch "
        "„ehemaliges Mitglied“ (Ergebnisse bleiben richtig). Das lässt sich nicht rückgängig machen. "
        "Bestätigen Sie innerhalb von 10 Minuten mit {command}."
    ),
    "privacy.nothing_to_confirm": "Es liegt kein Löschwunsch von Ihnen vor. Beginnen Sie mit !vergessen.",
    "privacy.forgotten": (
        "Erledigt. Gelöscht – Erinnerungen: {reminders}. Anonymisiert – Stimmen: {votes}, TOPs: {items}."
    ),
    "audit.title": "**Protokoll des Vorsitzes** (neueste zuerst)",
    "audit.empty": "Das Protokoll ist leer.",
    "privacy.former_member": "ehemaliges Mitglied",
    "file.my_data": "meine-daten-akbot.json",
    "audit.sent_privately": "Das Protokoll habe ich Ihnen privat geschickt.",
    "audit.action.poll.started": "Umfrage #{id} gestartet",
    "audit.action.poll.closed": "Umfrage #{id} beendet (gewählt: Option {winner}; 0 = keine)",
    "audit.action.poll.withdrawn": "Umfrage #{id} zurückgezogen",
    "audit.action.item.accepted": "TOP #{id} angenommen",
    "audit.action.item.rejected": "TOP #{id} abgelehnt",
    "audit.action.item.deferred": "TOP #{id} vertagt auf Sitzung #{meeting}",
    "audit.action.item.moved": "TOP #{id} auf Platz {position} gesetzt",
    "audit.action.meeting.created": "Sitzung #{id} angelegt für {start}",
    "audit.action.meeting.moved": "Sitzung #{id} verschoben auf {start}",
    "audit.action.meeting.cancelled": "Sitzung #{id} abgesagt",
    "audit.action.model.changed": "Modell gewechselt zu {name}",
    "audit.action.room.timezone": "Zeitzone des Raums auf {name} gestellt",
    "audit.action.poll.option_dropped": "Option {option} aus Umfrage #{id} gestrichen",
    "audit.action.member.forgotten": (
        "vergessen. Gelöscht – Erinnerungen: {reminders}. Anonymisiert – Stimmen: {votes}, TOPs: {items}"
    ),
    "privacy.purged": "Aufbewahrungsfrist: {count} alte Einträge gelöscht.",
    "privacy.purged.one": "Aufbewahrungsfrist: {count} alter Eintrag gelöscht.",
    "cmd.privacy.help": "Was der Bot speichert, wo und wie lange.",
    "cmd.mydata.help": "Schickt Ihnen Ihre gespeicherten Daten als JSON-Datei in einen direkten Raum.",
    "cmd.forget.help": "Löscht Ihre Erinnerungen und anonymisiert Ihre Stimmen und TOPs (mit Bestätigung).",
    "cmd.forget.confirm.help": "Bestätigt das Vergessen.",
    "cmd.audit.help": "Schickt Ihnen privat die letzten 20 Aktionen des Vorsitzes (und Löschwünsche) in diesem Raum.",
}

EN: dict[str, str] = {
    "privacy.notice": (
        "**Data protection in akbot**  \n"
        "Only what the bot needs is stored, in an SQLite database on the operators' server (not in a cloud): "
        "reminders (text, time, who set them), polls and votes, meetings, submitted agenda items (with name and "
        "organisation), your profile (stakeholder groups, organisation), a log of chair actions, and for AI questions only counters (who, when, how many "
        "tokens) – never the question or the answer. Of meetings only the entries (decisions, actions, notes), "
        "the attendance (who wrote or said so, not what) and the minutes – never the chat. For `!ask` these records "
        "and documents the chair adds (their text) are kept searchable in the database. Messages in the room "
        "stay end-to-end encrypted.  \n"
        "Retention: ended polls, past meetings without minutes, sent reminders, counters and log entries are "
        "deleted after {retention}; minutes and decisions stay as the group's record.  \n"
        "Your data: {mydata} sends it to you as a file; {forget} deletes or anonymises it."
    ),
    "privacy.sent_privately": "I am sending you your data as a file in a direct, encrypted room.",
    "privacy.private_note": "Your data stored by akbot (JSON).",
    "privacy.confirm_forget": (
        "This deletes your reminders, counters and attendance and replaces your name in votes, agenda items and "
        "minutes entries by "
        "“ehemaliges Mitglied” (results stay right). It cannot be undone. Confirm within 10 minutes with {command}."
    ),
    "privacy.nothing_to_confirm": "There is no request of yours to confirm. Start with !forget.",
    "privacy.forgotten": "Done. Deleted – reminders: {reminders}. Anonymised – votes: {votes}, agenda items: {items}.",
    "audit.title": "**Chair log** (newest first)",
    "audit.empty": "The log is empty.",
    "privacy.former_member": "former member",
    "file.my_data": "my-data-akbot.json",
    "audit.sent_privately": "I have sent you the log privately.",
    "audit.action.poll.started": "Poll #{id} started",
    "audit.action.poll.closed": "Poll #{id} closed (chosen: option {winner}; 0 = none)",
    "audit.action.poll.withdrawn": "Poll #{id} withdrawn",
    "audit.action.item.accepted": "Item #{id} accepted",
    "audit.action.item.rejected": "Item #{id} rejected",
    "audit.action.item.deferred": "Item #{id} deferred to meeting #{meeting}",
    "audit.action.item.moved": "Item #{id} put at place {position}",
    "audit.action.meeting.created": "Meeting #{id} created for {start}",
    "audit.action.meeting.moved": "Meeting #{id} moved to {start}",
    "audit.action.meeting.cancelled": "Meeting #{id} cancelled",
    "audit.action.model.changed": "Model changed to {name}",
    "audit.action.room.timezone": "Room time zone set to {name}",
    "audit.action.poll.option_dropped": "Option {option} struck off poll #{id}",
    "audit.action.member.forgotten": (
        "forgotten. Deleted – reminders: {reminders}. Anonymised – votes: {votes}, agenda items: {items}"
    ),
    "privacy.purged": "Retention: {count} old records deleted.",
    "privacy.purged.one": "Retention: {count} old record deleted.",
    "cmd.privacy.help": "What the bot stores, where, and for how long.",
    "cmd.mydata.help": "Sends you your stored data as a JSON file in a direct room.",
    "cmd.forget.help": "Deletes your reminders and anonymises your votes and agenda items (asks to confirm).",
    "cmd.forget.confirm.help": "Confirms the forgetting.",
    "cmd.audit.help": "Sends you privately the last 20 chair actions (and forget requests) in this room.",
}
