"""A member on Element's own stack (matrix-js-sdk with its Rust crypto, "exclude insecure
devices" as Element runs by default) uses the bot in the encrypted room.

Before the bot cross-signed its device, this member could read nothing the bot wrote
(``UNSIGNED_SENDER_DEVICE``) and the bot could read nothing the member wrote (their keys were
withheld from the bot). Now both directions work, also after a bot restart.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from bot.homeserver import EmbeddedHomeserver
from bot.matrix.content import download_file
from tests.conftest import PASSWORD, World, build_world, close_world, fresh_start
from tests.element_user import ElementSeen, ElementUser, ensure_installed
from tests.test_e2e_reminders import BERLIN, in_days
from tests.test_minutes import pdf_text

POLL_START = "org.matrix.msc3381.poll.start"
POLL_RESPONSE = "org.matrix.msc3381.poll.response"


@pytest.fixture(scope="module")
async def shared_element_world(
    homeserver: EmbeddedHomeserver, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[World, ElementUser]]:
    ensure_installed()
    root = tmp_path_factory.mktemp("element-world")
    world = await build_world(homeserver, root)
    user_id = homeserver.register(f"element{world.room_id[1:6].lower()}", PASSWORD)
    element = ElementUser(root / "element")
    await element.start(homeserver.url, user_id, PASSWORD)
    try:
        await world.chair.client.room_invite(world.room_id, user_id)
        await element.wait_invite(world.room_id)
        await element.join(world.room_id)
        # Element shares its room key only with members it knows; the bot must know the new member.
        await element.wait_member(world.room_id, world.bot_id)
        yield world, element
    finally:
        await element.stop()
        await close_world(world)


@pytest.fixture
async def element_world(
    shared_element_world: tuple[World, ElementUser],
) -> tuple[World, ElementUser]:
    """The module's world and Element member as each test finds them: independent of the others."""
    world, element = shared_element_world
    return await fresh_start(world), element


async def _ask(world: World, element: ElementUser, text: str) -> ElementSeen:
    return await element.ask(world.room_id, text, world.bot_id, timeout=30)


async def test_an_element_member_and_the_bot_read_each_other(
    element_world: tuple[World, ElementUser],
) -> None:
    world, element = element_world

    reply = await _ask(world, element, "!ping")

    assert reply.encrypted and reply.body.startswith("pong")
    assert [f for f in element.decryption_failures if f.sender == world.bot_id] == []


async def test_element_sees_the_bots_device_signed_by_its_owner(
    element_world: tuple[World, ElementUser],
) -> None:
    world, element = element_world
    app = world.bot.app
    assert app is not None

    status = await element.device_status(world.bot_id, app.adapter.client.device_id)

    assert status["signed_by_owner"] is True


async def test_a_poll_started_by_the_bot_is_readable_in_element(
    element_world: tuple[World, ElementUser],
) -> None:
    world, element = element_world
    await world.ask(world.chair, "!umfrage Nächster Termin?; Mo 10 Uhr; Di 10 Uhr")

    poll = await element.wait_for(lambda e: e.sender == world.bot_id and e.type == POLL_START, timeout=30)

    assert poll.encrypted
    answers = poll.content[POLL_START]["answers"]
    assert len(answers) == 2
    vote = await _ask(world, element, "!abstimmen 1")
    assert vote.body.startswith("Ihre Stimme zu Umfrage #") and ": ja" in vote.body


async def test_an_element_member_votes_by_clicking_a_poll_answer(
    element_world: tuple[World, ElementUser],
) -> None:
    world, element = element_world
    created = await world.ask(world.chair, "!umfrage Klick-Umfrage; Mo 10 Uhr; Di 10 Uhr")
    poll_id = created.split("#", 1)[1].split()[0]
    poll = await element.wait_for(
        lambda e: e.sender == world.bot_id and e.type == POLL_START and "Klick-Umfrage" in str(e.content),
        timeout=30,
    )

    await element.send_event(
        world.room_id,
        POLL_RESPONSE,
        {
            "m.relates_to": {"rel_type": "m.reference", "event_id": poll.event_id},
            POLL_RESPONSE: {"answers": ["2"]},
        },
    )
    standing = await _ask(world, element, f"!umfrage stand {poll_id}")

    assert standing.encrypted
    lines = standing.body.splitlines()
    assert lines[0] == f"Stand der Umfrage #{poll_id}: Klick-Umfrage"
    # Options are listed best first: the clicked answer leads with Element's vote.
    localpart = element.user_id[1:].split(":")[0]
    assert lines[2].startswith("1. Option 2: ")
    assert lines[2].endswith(f"– 1 ja, 0 wenn nötig (ja: {localpart})")


async def test_after_a_restart_the_bot_still_reads_and_is_read(
    element_world: tuple[World, ElementUser],
) -> None:
    world, element = element_world
    await world.bot.stop()
    await world.bot.start()

    reply = await _ask(world, element, "!ping")

    assert reply.encrypted and reply.body.startswith("pong")
    assert [f for f in element.decryption_failures if f.sender == world.bot_id] == []


async def test_what_the_bot_sends_privately_is_readable_in_element(
    element_world: tuple[World, ElementUser],
) -> None:
    """!meinedaten arrives in an encrypted direct room the bot opens: Element can read it."""
    world, element = element_world

    known = set(element.invites)
    answer = await _ask(world, element, "!meinedaten")
    assert answer.body.startswith("Ich schicke Ihnen Ihre Daten")
    direct = await element.wait_invite(known=known)
    await element.join(direct)
    file_event = await element.wait_for(
        lambda e: e.room_id == direct and e.sender == world.bot_id and e.content.get("msgtype") == "m.file",
        timeout=30,
    )

    assert file_event.encrypted and "file" in file_event.content
    assert [f for f in element.decryption_failures if f.sender == world.bot_id] == []


async def test_released_minutes_reach_an_element_member_as_a_pdf_they_can_open(
    element_world: tuple[World, ElementUser],
) -> None:
    """An Element member attends, takes an action item, and receives the released minutes: the
    key Element decrypted with the event opens the PDF."""
    world, element = element_world
    created = await world.ask(world.chair, f"!sitzung {in_days(45, 10)}; Element-Sitzung", 30)
    found = re.search(r"Sitzung #(\d+) angelegt", created)
    assert found, created
    meeting_id = found.group(1)
    assert "hat begonnen" in await world.ask(world.chair, f"!sitzung beginnen {meeting_id}", 30)

    assert "anwesend" in (await _ask(world, element, "!anwesend")).body
    ack = await _ask(world, element, f"!aufgabe {element.user_id} Folien vorbereiten")
    assert ack.body.startswith("Aufgabe #"), ack.body
    await world.ask(world.chair, "!beschluss Element liest mit; einstimmig", 30)
    draft = await world.ask(world.chair, "!sitzung beenden", 30)
    assert element.user_id[1:].split(":")[0] in draft, draft  # attended
    await world.ask(world.chair, f"!protokoll freigeben {meeting_id}", 30)

    pdf = await element.wait_for(
        lambda e: (
            e.sender == world.bot_id
            and e.content.get("msgtype") == "m.file"
            and e.body
            == f"niederschrift-{meeting_id}-{(datetime.now(BERLIN) + timedelta(days=45)):%Y-%m-%d}.pdf"
        ),
        timeout=30,
    )
    assert pdf.encrypted and "file" in pdf.content
    text = " ".join(pdf_text(await download_file(world.member.client, pdf.content)).split())
    assert "„Element liest mit“ (einstimmig)" in text and "Folien vorbereiten" in text, text
    assert [f for f in element.decryption_failures if f.sender == world.bot_id] == []
