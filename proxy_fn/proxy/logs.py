"""The function's JSON log lines: Powertools Logger writes every one, with the invocation's keys; the one INFO line
each request writes ("proxied") takes a direct path to the same output when that is provably the same bytes.

Powertools' `logger.info` costs about 150 µs per line (a LogRecord, the caller lookup, a JSON decode attempt on the
message, key filtering against a list) and `inject_lambda_context` about 50 µs (a context model and a jmespath query
per invocation): together a third of a warm request's own CPU time. The same keys are set here with one
`append_keys`, and the "proxied" line is built from the logger's own formatter (its keys, its timestamp format, its
JSON serializer) and written to its handler. Anything that could make Powertools write something else (another
level, a filter, a log buffer, a root handler that would also receive the record, a changed key layout) sends the
line through `logger.info` instead.
"""

import logging
import os
import sys
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.filters import SuppressFilter
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

# The keys Powertools' formatter fills from the record, with the templates it is created with.
_RECORD_KEYS = {"level": "%(levelname)s", "location": "%(funcName)s:%(lineno)d", "timestamp": "%(asctime)s"}
_FAST_LAYOUT = ["level", "location", "message", "timestamp"]


class _Stamp:
    """What the formatter's formatTime reads from a LogRecord, taken the way LogRecord takes it."""

    __slots__ = ("created", "msecs")

    def __init__(self, now_ns: int) -> None:
        self.created = now_ns / 1e9
        self.msecs = (now_ns % 1_000_000_000) // 1_000_000 + 0.0


class InvocationLog:
    """The Powertools logger of one function, and its per-invocation keys."""

    def __init__(self, logger: Logger) -> None:
        self.logger = logger
        self._cold_start = True

    def with_lambda_context[Handler: Callable[..., Any]](self, handler: Handler) -> Handler:
        """What `@logger.inject_lambda_context(correlation_id_path=API_GATEWAY_REST)` does for this function: the
        context keys, cold_start, and the API Gateway request id as correlation_id (None when the event has none).
        The event is never logged."""
        logger = self.logger

        @wraps(handler)
        def with_keys(event: Any, context: Any) -> Any:
            cold_start, self._cold_start = self._cold_start, False
            logger.append_keys(
                cold_start=cold_start,
                function_name=context.function_name,
                function_memory_size=context.memory_limit_in_mb,
                function_arn=context.invoked_function_arn,
                function_request_id=context.aws_request_id,
                correlation_id=_request_id(event),
            )
            if logger.sampling_rate and not cold_start:
                logger.refresh_sample_rate_calculation()
            return handler(event, context)

        return with_keys  # type: ignore[return-value]  # same signature as the handler it wraps

    def info_line(self, message: str, fields: dict[str, Any]) -> None:
        """`logger.info(message, extra=fields)`, called from the handler; `message` must not be JSON."""
        line = self._line(message, fields, sys._getframe(1))
        if line is None:
            self.logger.info(message, extra=fields, stacklevel=3)
            return
        handler = self.logger.registered_handler
        handler.acquire()
        try:
            stream = handler.stream  # type: ignore[attr-defined]  # a StreamHandler: checked in _line
            stream.write(line + "\n")
            stream.flush()
        finally:
            handler.release()

    def _line(self, message: str, fields: dict[str, Any], caller: Any) -> str | None:
        """The line Powertools would write, or None when only Powertools itself can say what it writes."""
        logger = self.logger
        stdlib_logger: logging.Logger = logger._logger
        handler = logger.registered_handler
        formatter = handler.formatter
        if (
            not stdlib_logger.isEnabledFor(logging.INFO)
            or type(formatter) is not LambdaPowertoolsFormatter
            or type(handler) is not logging.StreamHandler
            or handler.level > logging.INFO
            or handler.filters
            or stdlib_logger.filters
            or stdlib_logger.handlers != [handler]
            or logger._buffer_config
            or formatter.log_record_order != _FAST_LAYOUT
            or (stdlib_logger.propagate and not _root_suppresses(stdlib_logger, logger.service))
            or formatter.thread_safe_get_current_keys()
        ):
            return None
        record: dict[str, Any] = {}
        for key, value in formatter.log_format.items():
            if key in _RECORD_KEYS:
                if value != _RECORD_KEYS[key]:
                    return None
                if key == "level":
                    record[key] = "INFO"
                elif key == "location":
                    record[key] = f"{caller.f_code.co_name}:{caller.f_lineno}"
                else:
                    record[key] = formatter.formatTime(_Stamp(time.time_ns()))  # type: ignore[arg-type]
            elif key == "message":
                record[key] = message
            elif isinstance(value, str) and "%(" in value:
                return None  # another record attribute: Powertools' own path fills it in
            else:
                record[key] = value
        record.update(fields)
        trace_id = os.environ.get("_X_AMZN_TRACE_ID")
        record["xray_trace_id"] = trace_id.split(";")[0].replace("Root=", "") if trace_id else None
        return formatter.serialize({key: value for key, value in record.items() if value is not None})


def _root_suppresses(stdlib_logger: logging.Logger, service: str) -> bool:
    """Powertools filters this service's records out of the root handlers present when the logger was made; a root
    handler added later (e.g. to collect every logger at DEBUG) would receive them: then Powertools writes."""
    return stdlib_logger.parent is logging.root and all(
        any(isinstance(f, SuppressFilter) and f.logger == service for f in root_handler.filters)
        for root_handler in logging.root.handlers
    )


def _request_id(event: Any) -> Any:
    """jmespath's `requestContext.requestId` on any event: None where it is not there."""
    if isinstance(event, dict):
        context = event.get("requestContext")
        if isinstance(context, dict):
            return context.get("requestId")
    return None
