"""A host name in BackendUrl: each new connection resolves it afresh and tries every address within the timeout.

The name is resolved by a resolver the test controls; its addresses are loopback addresses sharing one port.
"""

import json
import time
from collections.abc import Iterator

import pytest

from local_gateway.model import MethodRequest
from tests.support.backend import RecordingBackend, Reply
from tests.support.chain import BACKEND_NAME, ConfigureProxy
from tests.support.engines import BothEngines
from tests.support.faults import unresponsive_listener
from tests.support.resolver import Resolver

TIMEOUT_SECONDS = 1.0


@pytest.fixture
def replacement() -> Iterator[RecordingBackend]:
    """The backend that answers on 127.0.0.3; nothing else listens on its port unless a test says so."""
    with RecordingBackend(host="127.0.0.3") as server:
        server.responder = lambda request: Reply(200, [("Content-Type", "text/plain")], b"from 127.0.0.3")
        yield server


@pytest.fixture
def by_name(
    chain: BothEngines, configure_proxy: ConfigureProxy, resolver: Resolver, replacement: RecordingBackend
) -> BothEngines:
    configure_proxy(f"http://{BACKEND_NAME}:{replacement.port}", backend_timeout_seconds=str(TIMEOUT_SECONDS))
    return chain


def test_a_new_connection_resolves_the_name_again_and_a_pooled_one_does_not(
    by_name: BothEngines, resolver: Resolver, replacement: RecordingBackend
) -> None:
    with RecordingBackend(host="127.0.0.2", port=replacement.port) as original:
        original.responder = lambda request: Reply(200, [("Content-Type", "text/plain")], b"from 127.0.0.2")
        resolver.answer("127.0.0.2")
        before = [by_name.handle(MethodRequest("GET", f"/{n}")).body for n in range(3)]
        resolver.answer("127.0.0.3")
        original.drain()

        after = by_name.handle(MethodRequest("GET", "/after")).body

    assert before == [b"from 127.0.0.2"] * 3
    assert after == b"from 127.0.0.3"
    assert resolver.lookups == 2


def test_every_address_is_tried_in_turn(by_name: BothEngines, resolver: Resolver) -> None:
    resolver.answer("127.0.0.2", "127.0.0.3")  # nothing listens on 127.0.0.2: refused

    response = by_name.handle(MethodRequest("GET", "/x"))

    assert (response.status, response.body) == (200, b"from 127.0.0.3")


def test_a_name_whose_addresses_all_refuse_is_a_502(
    by_name: BothEngines, resolver: Resolver, replacement: RecordingBackend
) -> None:
    resolver.answer("127.0.0.2", "127.0.0.4")

    started = time.monotonic()
    response = by_name.handle(MethodRequest("GET", "/x"))

    assert response.status == 502
    assert set(json.loads(response.body)) == {"message", "requestId"}
    assert time.monotonic() - started < TIMEOUT_SECONDS
    assert replacement.requests == []


def test_a_name_that_does_not_resolve_is_a_502(by_name: BothEngines, resolver: Resolver) -> None:
    resolver.answer()

    assert by_name.handle(MethodRequest("GET", "/x")).status == 502


def test_addresses_that_never_answer_share_the_timeout_with_the_one_that_does(
    by_name: BothEngines, resolver: Resolver, replacement: RecordingBackend
) -> None:
    """A stale answer listing stopped tasks first: each address gets an equal share of the time left, so the
    working one is still reached (urllib3 alone would give the first address the whole timeout)."""
    silent = ["127.0.0.4", "127.0.0.5", "127.0.0.6"]
    with (
        unresponsive_listener(silent[0], replacement.port),
        unresponsive_listener(silent[1], replacement.port),
        unresponsive_listener(silent[2], replacement.port),
    ):
        resolver.answer(*silent, "127.0.0.3")
        started = time.monotonic()
        response = by_name.handle(MethodRequest("GET", "/x"))
        elapsed = time.monotonic() - started

    assert (response.status, response.body) == (200, b"from 127.0.0.3")
    assert 0.7 < elapsed < TIMEOUT_SECONDS


def test_addresses_that_all_never_answer_are_a_504_within_the_timeout(
    by_name: BothEngines, resolver: Resolver, replacement: RecordingBackend
) -> None:
    with (
        unresponsive_listener("127.0.0.4", replacement.port),
        unresponsive_listener("127.0.0.5", replacement.port),
    ):
        resolver.answer("127.0.0.4", "127.0.0.5")
        started = time.monotonic()
        response = by_name.handle(MethodRequest("GET", "/x"))
        elapsed = time.monotonic() - started

    assert response.status == 504
    assert TIMEOUT_SECONDS - 0.05 < elapsed < TIMEOUT_SECONDS + 0.25


def test_a_name_that_resolves_too_slowly_is_a_504_within_the_timeout(by_name: BothEngines, resolver: Resolver) -> None:
    """getaddrinfo takes no timeout (a resolver's own retries take 10 s and more): the lookup counts against the
    exchange's deadline like the connect does."""
    resolver.answer("127.0.0.3")
    resolver.delay_seconds = 3.0

    started = time.monotonic()
    response = by_name.handle(MethodRequest("GET", "/x"))
    elapsed = time.monotonic() - started

    assert response.status == 504
    assert TIMEOUT_SECONDS - 0.05 < elapsed < TIMEOUT_SECONDS + 0.25
