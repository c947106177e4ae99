"""A Powertools logger's JSON lines, as CloudWatch would receive them (its handler keeps the stdout it started with)."""

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aws_lambda_powertools import Logger


class LogLines:
    def __init__(self, stream: io.StringIO) -> None:
        self._stream = stream

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self._stream.getvalue().splitlines()]

    def at_level(self, level: str) -> list[dict[str, Any]]:
        return [record for record in self.records() if record["level"] == level]

    def text(self) -> str:
        return self._stream.getvalue()


@contextmanager
def captured(logger: Logger) -> Iterator[LogLines]:
    stream = io.StringIO()
    log_handler = logger.registered_handler
    assert isinstance(log_handler, logging.StreamHandler)
    previous = log_handler.setStream(stream)
    try:
        yield LogLines(stream)
    finally:
        log_handler.setStream(previous)
