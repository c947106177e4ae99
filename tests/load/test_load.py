"""A bounded concurrent run through `make local`: zero errors, no leaked sockets or file descriptors."""

from bench.load import Progress, measure


def test_concurrent_clients_get_every_answer_and_leave_nothing_open() -> None:
    reported: list[str] = []
    result = measure(clients=8, requests_per_client=150, progress=Progress(reported.append, every_seconds=0.5))
    print(f"\nload (make test size): {result.summary()}")

    assert result.requests == 1200
    assert result.errors == 0
    assert result.fds_after <= result.fds_before
    assert result.sockets_after <= result.sockets_before
    # `make load` runs for about a minute: it says what it starts, then how far it has got, every few seconds.
    assert reported[0].startswith("load: starting make local")
    assert any(" of 1,200 requests, " in line for line in reported[1:]), reported
