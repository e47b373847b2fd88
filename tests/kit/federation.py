"""A world on two federating homeservers: the bot's organisation (LVR) on one, the chair's (LWL)
on the other, and the encrypted room between them - the chair on LWL creates it and invites the
bot, who follows the remote chair's invitation (the room is not configured).

Only what differs from ``tests.conftest.build_world`` lives here: the people's homes, the bot's
invitation policy (``allowed_inviters``, ``allowed_servers``) and a ``settle`` that also waits for
the bot to trust the remote members' devices. ``World.ask`` and ``fresh_start`` work unchanged.

Optionally a third server (``outside``) carries a namesake of the chair: a user whose id matches
the inviter pattern but whose server is not one of the two organisations'.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot.app import ROUTERS
from bot.homeserver import FederatingHomeserver, start_together
from bot.settings import AgendaSettings, BotSettings, LlmSettings, MatrixSettings, Settings
from tests.conftest import PASSWORD, BotRunner, World
from tests.kit.users import ChatClient

# A federation transaction that finds its peer down is sent again after 4 s, 16 s, then every
# 60 s (Synapse's max_long_retry_delay, each times a jitter of 0.8 to 1.4): a peer back after a
# 20 s outage hears of what it missed up to a minute or more later (4 s and 56 s in two runs with
# the defaults). Capped lower, a test waits less; the ten retries still span more than a minute
# before Synapse gives up on the peer (and backs off from it for 10 minutes).
RETRY_CAP = "10s"
# Any chair of LVR or LWL may invite the bot: a pattern of the chair's id, not the id itself, so
# that only allowed_servers keeps out a namesake on another server.
CHAIR_PATTERN = "@vorsitz*:*"
_world_numbers = itertools.count(1)


class QuickRetryHomeserver(FederatingHomeserver):
    """A federating homeserver that retries a failed federation transaction at most every
    ``RETRY_CAP`` (instead of 60 s); otherwise Synapse's defaults."""

    def _overlay_config(self) -> dict[str, Any]:
        overlay = super()._overlay_config()
        overlay["federation"] = {**overlay.get("federation", {}), "max_long_retry_delay": RETRY_CAP}
        return overlay


def start_servers(roots: list[Path]) -> list[FederatingHomeserver]:
    """Federating homeservers in these folders, started in parallel (blocking)."""
    servers: list[FederatingHomeserver] = [QuickRetryHomeserver(root) for root in roots]
    start_together(servers)
    return servers


@dataclass(kw_only=True)
class FederatedWorld(World):
    """``homeserver`` is LVR (the bot's and ``member``'s home); the chair and ``colleague`` live on
    LWL. The chair is one by power (the room's creator, no ``bot.chairs``), so ``power_chair`` is
    the chair. ``stranger`` lives on LWL too but is in no room and no allowed inviter."""

    lvr: FederatingHomeserver
    lwl: FederatingHomeserver
    colleague: ChatClient
    outside: FederatingHomeserver | None = None
    namesake: ChatClient | None = None  # "vorsitz…" on the outside server

    @property
    def in_room(self) -> list[ChatClient]:
        return [self.chair, self.member, self.colleague]

    @property
    def lwl_people(self) -> list[ChatClient]:
        return [c for c in self.in_room if c.user_id.endswith(f":{self.lwl.server_name}")]

    async def settle(self, timeout: float = 120.0) -> None:
        """Until the bot serves the room, everyone (bot included) sees everyone, every client knows
        every other's devices and the bot has judged each member's device trusted (its verdict on a
        remote device needs a key query over federation)."""
        people = [self.bot_id, *(c.user_id for c in self.in_room)]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            app = self.bot.app
            served = app is not None and app.adapter.is_served(self.room_id)
            unseen = [p for p in people if app is None or not app.adapter.is_member(self.room_id, p)]
            untrusted = [
                c.user_id
                for c in self.in_room
                if app is None or not app.adapter.trust.trusted(c.user_id, c.client.device_id)
            ]
            bot_ready = served and not unseen and not untrusted
            clients_ready = all(
                c.knows_devices_of(self.room_id, p) for c in self.in_room for p in people if p != c.user_id
            )
            if bot_ready and clients_ready:
                return
            if loop.time() > deadline:
                raise AssertionError(
                    f"the federated room did not settle within {timeout} s (bot serves the room: "
                    f"{served}, members it does not see: {unseen}, devices it does not trust: "
                    f"{untrusted}; clients ready: {clients_ready})"
                )
            await asyncio.sleep(0.1)


async def build_federated_world(
    lvr: FederatingHomeserver,
    lwl: FederatingHomeserver,
    root: Path,
    *,
    outside: FederatingHomeserver | None = None,
    llm: LlmSettings | None = None,
    **bot_options: object,
) -> FederatedWorld:
    """The bot and ``mitglied`` on ``lvr``; ``vorsitz`` (the chair, the room's creator),
    ``kollegin`` and ``fremd`` on ``lwl``; with ``outside``, a namesake ``vorsitz…`` there. The
    chair creates the encrypted room and invites the bot and both members; the bot follows the
    invitation. ``llm``: the model the bot asks (by default none configured). The servers must be
    running; a world that fails to build is closed again."""
    number = next(_world_numbers)
    homes = {
        "akbot": lvr,
        "mitglied": lvr,
        "vorsitz": lwl,
        "kollegin": lwl,
        "fremd": lwl,
    }
    if outside is not None:
        homes["namensvetter"] = outside
    localparts = {role: f"{role}{number}" for role in homes}
    localparts["namensvetter"] = f"vorsitz{number}"  # the chair's very name, on another server

    def register_all() -> dict[str, str]:
        return {role: homes[role].register(localparts[role], PASSWORD) for role in homes}

    ids = await asyncio.to_thread(register_all)
    clients = {
        role: ChatClient(homes[role].url, ids[role], PASSWORD, root / "clients" / role)
        for role in homes
        if role != "akbot"
    }
    settings = Settings(
        llm=llm or LlmSettings(),
        matrix=MatrixSettings(
            homeserver=lvr.url,
            user_id=ids["akbot"],
            password=SecretStr(PASSWORD),
            allowed_inviters=[CHAIR_PATTERN],
            allowed_servers=[lvr.server_name, lwl.server_name],
            pickle_key=SecretStr("test-pickle-key-0123456789"),
        ),
        agenda=AgendaSettings(organisations={lvr.server_name: "LVR", lwl.server_name: "LWL"}),
        bot=BotSettings(chairs=[], data_dir=root / "bot", **bot_options),  # type: ignore[arg-type]
    )
    runner = BotRunner(settings, ROUTERS)
    try:
        return await _populate(runner, clients, ids, lvr, lwl, outside)
    except BaseException:
        await runner.stop()
        for client in clients.values():
            await client.stop()
        raise


async def _populate(
    runner: BotRunner,
    clients: dict[str, ChatClient],
    ids: dict[str, str],
    lvr: FederatingHomeserver,
    lwl: FederatingHomeserver,
    outside: FederatingHomeserver | None,
) -> FederatedWorld:
    # The bot and the people log in (and cross-sign) at the same time; the bot has no rooms yet.
    await asyncio.gather(runner.start(), *(client.start() for client in clients.values()))
    chair, member, colleague = clients["vorsitz"], clients["mitglied"], clients["kollegin"]
    # Synapse's default room version is 12: the creator outranks every power level and must not
    # be listed in m.room.power_levels (listing her with 100 is refused), so the chair's power is
    # her creatorship - still power, not bot.chairs.
    room_id = await chair.create_room(
        "Facharbeitskreis KI (LVR/LWL)", invite=[ids["akbot"], ids["mitglied"], ids["kollegin"]]
    )
    await asyncio.gather(member.join(room_id), colleague.join(room_id))
    world = FederatedWorld(
        homeserver=lvr,
        room_id=room_id,
        bot_id=ids["akbot"],
        bot=runner,
        chair=chair,
        power_chair=chair,
        member=member,
        stranger=clients["fremd"],
        clients=list(clients.values()),
        lvr=lvr,
        lwl=lwl,
        colleague=colleague,
        outside=outside,
        namesake=clients.get("namensvetter"),
    )
    await world.settle()
    return world
