"""A bounded concurrent run through `make local`: zero errors, no leaked sockets or file descriptors."""

from bench.load import measure


def test_concurrent_clients_get_every_answer_and_leave_nothing_open() -> None:
    result = measure(clients=8, requests_per_client=150)
    print(f"\nload (make test size): {result.summary()}")

    assert result.requests == 1200
    assert result.errors == 0
    assert result.fds_after <= result.fds_before
    assert result.sockets_after <= result.sockets_before
