"""The Element test user (matrix-js-sdk + Rust crypto, "exclude insecure devices") and the trust
facts it stands for, against the real Synapse.

* Two Element users, each with cross-signing bootstrapped, read each other in an encrypted room,
  and each sees the other's device as signed by its owner (not as verified: nobody verified
  anybody's identity, which "exclude insecure devices" does not require).
* A matrix-nio user without cross-signing (``ChatClient(..., cross_signed=False)``) is an insecure
  device to Element: Element refuses to decrypt what it sends (``UNSIGNED_SENDER_DEVICE``) and
  withholds its own room keys from it, so the nio user cannot read Element's messages.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.homeserver import EmbeddedHomeserver
from tests.conftest import PASSWORD
from tests.element_user import ElementUser, ensure_installed
from tests.kit.users import ChatClient

_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def element_installed() -> Path:
    return ensure_installed()


class People:
    """Started users (Element or nio) with unique localparts on the session's homeserver."""

    def __init__(self, homeserver: EmbeddedHomeserver, root: Path) -> None:
        self.homeserver = homeserver
        self.root = root
        self.started: list[ElementUser | ChatClient] = []

    def _register(self, name: str) -> tuple[str, Path]:
        localpart = f"{name}{next(_numbers)}"
        return self.homeserver.register(localpart, PASSWORD), self.root / localpart

    async def element(self, name: str) -> ElementUser:
        user_id, folder = self._register(name)
        user = ElementUser(folder)
        self.started.append(user)
        await user.start(self.homeserver.url, user_id, PASSWORD)
        return user

    async def nio(self, name: str, **options: bool) -> ChatClient:
        user_id, folder = self._register(name)
        user = ChatClient(self.homeserver.url, user_id, PASSWORD, folder, **options)
        self.started.append(user)
        await user.start()
        return user

    async def stop(self) -> None:
        for user in reversed(self.started):
            await user.stop()


@pytest.fixture
async def people(
    homeserver: EmbeddedHomeserver, tmp_path: Path, element_installed: Path
) -> AsyncIterator[People]:
    crowd = People(homeserver, tmp_path)
    yield crowd
    await crowd.stop()


async def test_element_users_read_each_other_and_see_owner_signed_devices(people: People) -> None:
    anna = await people.element("elanna")
    ben = await people.element("elben")
    assert anna.device_id and ben.device_id

    room_id = await anna.create_room("Element unter sich", invite=[ben.user_id])
    assert await ben.wait_invite(room_id) == room_id
    assert ben.invites[room_id] == anna.user_id
    await ben.join(room_id)
    await anna.wait_member(room_id, ben.user_id)

    from_anna = await anna.send(room_id, "Hallo Ben, verschlüsselt")
    seen = await ben.wait_for(lambda e: e.event_id == from_anna)
    assert seen.encrypted
    assert seen.sender == anna.user_id
    assert seen.body == "Hallo Ben, verschlüsselt"

    mine = await anna.wait_for(lambda e: e.event_id == from_anna)  # what one sent is seen, too
    assert mine.sender == anna.user_id

    from_ben = await ben.send(room_id, "Hallo Anna")
    seen = await anna.wait_for(lambda e: e.event_id == from_ben)
    assert seen.encrypted
    assert seen.body == "Hallo Anna"
    assert not anna.undecryptable
    assert not ben.undecryptable

    for viewer, other in ((anna, ben), (ben, anna)):
        status = await viewer.device_status(other.user_id, other.device_id)
        assert status == {
            "signed_by_owner": True,  # cross-signed by its owner: a secure device under MSC4153
            "cross_signing_verified": False,  # nobody verified the other's identity
            "locally_verified": False,
        }
    unknown = await anna.device_status(ben.user_id, "NOSUCHDEVICE")
    assert unknown == {"signed_by_owner": None, "cross_signing_verified": None, "locally_verified": None}


async def test_element_excludes_a_device_without_cross_signing(people: People) -> None:
    carla = await people.element("elcarla")
    nils = await people.nio("nionils", cross_signed=False)  # an old client: no cross-signing

    room_id = await carla.create_room("Element und nio", invite=[nils.user_id])
    await nils.join(room_id)
    await carla.wait_member(room_id, nils.user_id)

    # nils's device is known to carla, and it is not signed by its owner.
    nils_device = nils.client.device_id
    assert await carla.device_status(nils.user_id, nils_device) == {
        "signed_by_owner": False,
        "cross_signing_verified": False,
        "locally_verified": False,
    }

    # Element sends without complaint, but withholds the room key from the insecure device ...
    from_carla = await carla.send(room_id, "Nur für sichere Geräte")
    # ... and nils, who shares his key with everybody, is not read either.
    from_nils = await nils.send(room_id, "Hallo Carla, hier nio")

    # nils has synced past carla's message once he sees his own, later one.
    mine = await nils.wait_for(lambda e: e.event_id == from_nils)
    assert mine.body == "Hallo Carla, hier nio"
    assert from_carla in nils.undecryptable
    assert all(e.event_id != from_carla for e in nils.seen)

    failure = await carla.wait_undecryptable(lambda u: u.event_id == from_nils)
    assert failure.sender == nils.user_id
    assert failure.code == "UNSIGNED_SENDER_DEVICE"
    assert all(e.event_id != from_nils for e in carla.seen)
    assert [u.event_id for u in carla.undecryptable] == [from_nils]
