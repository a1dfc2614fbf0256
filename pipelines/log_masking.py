"""Masking on the way out of a process: a `logging` filter, a structlog processor and a console stream,
all three built on `pipelines.privacy.mask_text`.

- `MaskingFilter`, for stdlib logging handlers: the message and the traceback of a record.
- `mask_log_event`, a structlog processor: every string in the event (the message, bound values, the
  traceback whether still `exc_info` or already turned into a dict by Airflow's JSON logs). Airflow's
  task log files are written through structlog; `pipelines.airflow_logging` installs it there.
- `MaskingStream`, around `sys.stdout`/`sys.stderr`: whatever a process prints (`print`, a console log
  renderer, an uncaught exception's traceback) is masked line by line. It is the last line of defence
  where no processor can be installed (a task run in-process by `airflow dags test`).
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

from structlog.processors import format_exc_info
from structlog.typing import EventDict, WrappedLogger

from pipelines.privacy import mask_keyed, mask_text


class MaskingFilter(logging.Filter):
    """Masks a record's message, its traceback and its stack. A traceback that held personal data is
    folded into the (masked) message, since formatters render `exc_info` themselves."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if record.exc_info and record.exc_info[1] is not None:
            trace = record.exc_text or logging.Formatter().formatException(record.exc_info)
            masked_trace = mask_text(trace)
            if masked_trace != trace:
                masked = f"{masked}\n{masked_trace}"
                record.exc_info, record.exc_text = None, None
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def mask_log_event(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """A structlog processor. An `exc_info` still in the event (console rendering) is formatted here, so
    that the traceback text can be masked before the renderer prints it."""
    if event_dict.get("exc_info"):
        event_dict = format_exc_info(logger, method_name, event_dict)
    for key, value in list(event_dict.items()):
        if key.startswith("_") and not isinstance(value, str):
            continue  # structlog's and logging's own objects (`_record`), which renderers do not print
        event_dict[key] = mask_keyed(key, value)
    return event_dict


class MaskingStream:
    """A text stream that masks what is written to it, then hands it on; everything else (`fileno`,
    `isatty`, `encoding`, `buffer`, ...) is the wrapped stream's. Bytes written to `buffer` or straight to
    the file descriptor (a child process, C code) pass unmasked."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    @property
    def wrapped(self) -> TextIO:
        return self._stream

    def write(self, text: str) -> int:
        self._stream.write(mask_text(text) if isinstance(text, str) else text)
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        if name == "_stream":  # not set yet (copy, pickle): no recursion
            raise AttributeError(name)
        return getattr(self._stream, name)


def install_console_masking(*, stdout: bool = True, stderr: bool = True) -> None:
    """Wraps `sys.stdout` and/or `sys.stderr` in a `MaskingStream` (once; a second call changes nothing).
    Handlers and loggers created afterwards write through it."""
    for name, wanted in (("stdout", stdout), ("stderr", stderr)):
        stream = getattr(sys, name)
        if wanted and stream is not None and not isinstance(stream, MaskingStream):
            setattr(sys, name, MaskingStream(stream))
