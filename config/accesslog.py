"""Structured (JSON) access log for gunicorn: one object per line, never a credential."""

import json
import os
import time

from gunicorn.glogging import Logger

from config.middleware import REQUEST_ID_KEY
from lookup.contract import TOKEN_NAME_KEY


class JsonAccessLogger(Logger):
    """gunicorn's Logger with the access line as JSON (json.dumps escapes paths and names safely)."""

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        record = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "request_id": environ.get(REQUEST_ID_KEY, ""),
            "method": environ.get("REQUEST_METHOD", ""),
            "path": environ.get("PATH_INFO", ""),
            "status": int(status) if str(status).isdigit() else status,
            "duration_ms": round(request_time.total_seconds() * 1000, 3),
            "token_name": environ.get(TOKEN_NAME_KEY, ""),
            "remote_addr": environ.get("REMOTE_ADDR", ""),
            "pid": os.getpid(),
            "bytes": getattr(resp, "sent", None),
        }
        # Only the fields above: no headers, no query string (a token could be pasted there).
        try:
            self.access_log.info(json.dumps(record, ensure_ascii=False))
        except Exception:
            self.exception("could not write the access log line")
