"""Questions to the on-premises model (!frage, !modelle, !modell)."""

from __future__ import annotations

DE: dict[str, str] = {
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
    "cmd.ask.help": "Fragt das hauseigene Sprachmodell; die Antwort erscheint als Thread (auch !ki).",
    "cmd.ask.usage": "<Frage>",
    "cmd.ai.help": "Wie !frage.",
    "cmd.ai.usage": "<Frage>",
    "cmd.models.help": "Listet die Modelle des lokalen Endpunkts.",
    "cmd.model.help": "Stellt das Modell dieses Raums ein (Vorsitz).",
    "cmd.model.usage": "<Name>",
}

EN: dict[str, str] = {
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
    "cmd.ask.help": "Asks the on-premises language model; the answer appears in a thread (also !ki).",
    "cmd.ask.usage": "<question>",
    "cmd.ai.help": "Same as !ask.",
    "cmd.ai.usage": "<question>",
    "cmd.models.help": "Lists the models of the local endpoint.",
    "cmd.model.help": "Sets this room's model (chair).",
    "cmd.model.usage": "<name>",
}
