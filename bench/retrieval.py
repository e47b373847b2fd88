"""Retrieval over the group's record: how often the answer is among the first three, and how fast.

Method. The evaluation set (``tests/kit/record_year.py``) is a year of the working group in one
room — 10 meetings, 20 TOPs, 18 decisions, 9 action items, 3 notes, released minutes, two
documents in passages — seeded by
SQL into a migrated in-memory database, so the index triggers (m013) index it as they index the
bot's own writes; and 48 German questions as members ask them, each with the record ids that
answer it. For each tokenizer variant of the FTS5 index (``unicode61 remove_diacritics 2`` with
stemmed prefix terms — the bot's — and ``trigram`` with stemmed substrings) the bot's own search
(``RecordIndex.search``, BM25 with the title weighted 3:1) answers every question:

* **recall@3**: the share of questions with at least one answering id among the first three hits;
* **MRR**: the mean of 1/rank of the first answering id among the first ten (0 when none).

**Latency**: the same room's index is then filled to ``--passages`` (default 10 000) with
synthetic tags made of the record's own vocabulary (so that terms are shared and BM25 has work),
and every question is asked ``--rounds`` times; p50/p95 of one search (query building, FTS5
match, ranking, the record's filters), single-threaded, warm. Targets: recall@3 ≥ 0.9 with BM25
alone, p95 ≤ 50 ms at 10 000 passages. A second room gets the same record: no hit may come from it.

**Hybrid** (``--hybrid``, on by default): the same questions through ``KnowledgeService.find``
with vectors from a real llama.cpp server (``bot.modelserver``, Gemma 3 270M, ``/v1/embeddings``,
token vectors mean-pooled), fused with BM25 by reciprocal rank fusion. Its latency at 10 000
passages is that of the vector part on random unit vectors of the model's width (the content does
not change the cost of a cosine), plus the BM25 part. The questions were written knowing the
record: the figures say the index finds what is there, not how members phrase things they do not
know the words for.

Results go to stdout and ``bench/results/retrieval.json``; with ``--check`` the exit code is 1
when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy

from bot import modelserver
from bot.services.audit import AuditLog
from bot.services.knowledge import KnowledgeService, Passage, RecordIndex, fuse
from bot.services.llm import LlmClient
from bot.settings import LlmSettings
from bot.storage import RECORD_TOKENIZER, create_record_index, open_memory_db
from tests.clock import BERLIN
from tests.kit import record_year
from tests.kit.report import VERDICT, Table, finish, fmt, result_options
from tests.kit.stats import percentile_of

RESULTS = Path(__file__).parent / "results" / "retrieval.json"
VARIANTS = {"unicode61 (prefix stems)": RECORD_TOKENIZER, "trigram (substring stems)": "trigram"}
TARGET_RECALL = 0.9
TARGET_P95_MS = 50.0


def _database(tokenizer: str) -> Any:
    db = open_memory_db()
    if tokenizer != RECORD_TOKENIZER:
        for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'record_%'"
        ):
            db.execute(f"DROP TRIGGER {name}")
        db.execute("DROP TABLE record_index")
        create_record_index(db, tokenizer)
    record_year.seed(db)
    return db


def quality(index: RecordIndex) -> dict[str, Any]:
    return scored(
        [index.search(record_year.ROOM, question, limit=10) for question, _ in record_year.QUESTIONS]
    )


def scored(results: list[list[Passage]]) -> dict[str, Any]:
    """Recall@3 and MRR of the first ten hits per question (in ``record_year.QUESTIONS`` order)."""
    hits, reciprocal, misses = 0, 0.0, []
    for (question, answers), passages in zip(record_year.QUESTIONS, results, strict=True):
        ranked = [(p.kind, p.ref) for p in passages]
        if any(found in answers for found in ranked[:3]):
            hits += 1
        else:
            misses.append({"question": question, "top3": ranked[:3]})
        rank = next((i for i, found in enumerate(ranked, start=1) if found in answers), None)
        reciprocal += 1 / rank if rank else 0.0
    count = len(record_year.QUESTIONS)
    return {"questions": count, "recall_at_3": hits / count, "mrr": reciprocal / count, "misses": misses}


def fill(db: Any, passages: int, seed: int = 7) -> int:
    """Synthetic tags in the record's room, from the record's vocabulary, up to ``passages``."""
    words = sorted({w for _, _, _, text in record_year.DECISIONS for w in text.replace(".", "").split()})
    rng = random.Random(seed)
    present = int(db.execute("SELECT count(*) FROM record_index").fetchone()[0])
    with db.atomic():
        for number in range(passages - present):
            text = " ".join(rng.choice(words) for _ in range(rng.randint(8, 20)))
            db.execute(
                "INSERT INTO tags (room_id, kind, text, author, event_id, created_at) VALUES (?, 'info', ?, 'x', ?, 0)",
                [record_year.ROOM, text, f"$fill{number}"],
            )
    return int(db.execute("SELECT count(*) FROM record_index").fetchone()[0])


def latency(index: RecordIndex, rounds: int) -> dict[str, float | None]:
    timings = []
    for _ in range(rounds):
        for question, _ in record_year.QUESTIONS:
            began = time.perf_counter()
            index.search(record_year.ROOM, question)
            timings.append((time.perf_counter() - began) * 1000)
    return {"p50_ms": percentile_of(timings, 0.5, 2), "p95_ms": percentile_of(timings, 0.95, 2)}


async def hybrid_quality(db: Any, base_url: str, model: str) -> dict[str, Any]:
    """Recall@3 and MRR of the hybrid search, with vectors from the model server."""
    client = LlmClient(LlmSettings(base_url=base_url, model=model, timeout_s=600))
    try:
        service = KnowledgeService(
            db, BERLIN, audit=AuditLog(db, BERLIN), embedder=client, embedding_model=model
        )
        while await service.refresh_vectors():
            pass
        measured = scored(
            [
                await service.find(record_year.ROOM, question, limit=10)
                for question, _ in record_year.QUESTIONS
            ]
        )
        width = len((await client.embed(["x"], model))[0])
        with db.atomic():  # the latency is measured on random vectors of the model's width
            db.execute("DELETE FROM passage_vectors")
        _random_vectors(db, width, model, seed=7)
        return {**measured, "service": service, "width": width}
    finally:
        await client.close()


def hybrid_latency(service: KnowledgeService, width: int, rounds: int) -> dict[str, float | None]:
    rng = numpy.random.default_rng(11)
    timings = []
    for _ in range(rounds):
        for question, _ in record_year.QUESTIONS:
            vector = rng.standard_normal(width)
            began = time.perf_counter()
            lexical = service.search(record_year.ROOM, question, limit=30)
            fuse(lexical, service.nearest(record_year.ROOM, vector.tolist(), 30))[:3]
            timings.append((time.perf_counter() - began) * 1000)
    return {"p50_ms": percentile_of(timings, 0.5, 2), "p95_ms": percentile_of(timings, 0.95, 2)}


def _report(table: Table, name: str, measured: dict[str, Any]) -> None:
    table.print_row(
        name,
        fmt(measured["recall_at_3"], 2),
        fmt(measured["mrr"], 2),
        measured["passages"],
        fmt(measured["p50_ms"], 2, " ms"),
        fmt(measured["p95_ms"], 2, " ms"),
    )
    for miss in measured["misses"]:
        print(f"  missed: {miss['question']} -> {miss['top3']}")


def _random_vectors(db: Any, width: int, model: str, seed: int) -> None:
    """Random unit vectors for the passages that have none: the cost of a cosine search does not
    depend on what the vectors mean."""
    rng = numpy.random.default_rng(seed)
    with db.atomic():
        for (rowid,) in db.execute(
            "SELECT rowid FROM record_index WHERE rowid NOT IN (SELECT passage FROM passage_vectors)"
        ).fetchall():
            vector = rng.standard_normal(width).astype(numpy.float32)
            db.execute(
                "INSERT INTO passage_vectors (passage, model, vector) VALUES (?, ?, ?)",
                [rowid, model, (vector / numpy.linalg.norm(vector)).tobytes()],
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.retrieval", description=__doc__.split("\n")[0])
    parser.add_argument("--passages", type=int, default=10_000, help="indexed passages for the latency")
    parser.add_argument("--rounds", type=int, default=5, help="times each question is asked for the latency")
    parser.add_argument(
        "--hybrid",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also BM25 + vectors (model server)",
    )
    result_options(parser, RESULTS)
    args = parser.parse_args(argv)

    table = Table(
        ("variant", "<28"),
        ("recall@3", ">9"),
        ("MRR", ">7"),
        ("passages", ">10"),
        ("p50", ">9"),
        ("p95", ">9"),
    )
    table.print_header()
    variants: dict[str, Any] = {}
    for name, tokenizer in VARIANTS.items():
        db = _database(tokenizer)
        index = RecordIndex(db, tokenizer=tokenizer)
        measured = quality(index)
        measured["passages"] = fill(db, args.passages)
        measured.update(latency(index, args.rounds))
        variants[name] = measured
        _report(table, name, measured)
    if args.hybrid and modelserver.available():
        server = modelserver.ModelServer(Path(tempfile.mkdtemp()) / "model.log")
        server.start()
        try:
            db = _database(RECORD_TOKENIZER)
            measured = asyncio.run(hybrid_quality(db, server.base_url, modelserver.MODEL_NAME))
        finally:
            server.stop()
        service, width = measured.pop("service"), measured.pop("width")
        measured["passages"] = fill(db, args.passages)
        _random_vectors(db, width, modelserver.MODEL_NAME, seed=13)  # the filled passages too
        service.vectors_changed()
        measured.update(hybrid_latency(service, width, args.rounds))
        name = f"hybrid (BM25 + {modelserver.MODEL_NAME})"
        variants[name] = measured
        _report(table, name, measured)
    bots = variants["unicode61 (prefix stems)"]
    targets = {
        "recall_at_3_bm25": bots["recall_at_3"] >= TARGET_RECALL,
        "p95_ms_at_passages": bots["p95_ms"] is not None and bots["p95_ms"] <= TARGET_P95_MS,
    }
    print(
        f"\nrecall@3 >= {TARGET_RECALL}: {VERDICT[targets['recall_at_3_bm25']]}; "
        f"p95 <= {TARGET_P95_MS:.0f} ms at {bots['passages']} passages: {VERDICT[targets['p95_ms_at_passages']]}"
    )
    return finish({"variants": variants, "targets": targets}, args.output, args.check)


if __name__ == "__main__":
    raise SystemExit(main())
