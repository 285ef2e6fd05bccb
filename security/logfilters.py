"""Logging filters."""

import logging


class OneLineClientErrors(logging.Filter):
    """Drop the traceback of a record about an expected client error (status below 500).

    Django logs a 403 from PermissionDenied or a 400 from a bad Host header with the exception
    attached: some 35 lines each, which makes flooding the log cheap. The message line is kept.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is not None and status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
