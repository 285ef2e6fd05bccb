"""JSON parser and renderer for the API, backed by orjson (fast, strict, bounded nesting)."""

import io

import orjson
from django.core.handlers.wsgi import LimitedStream
from rest_framework import exceptions
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer

# Bodies over this size are refused before they are parsed (design §7).
MAX_BODY_BYTES = 64 * 1024


def check_body_size(request) -> None:
    """Refuse a body over MAX_BODY_BYTES before parsing; buffer a chunked one (no Content-Length)."""
    meta = request.META
    try:
        length = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        raise PayloadTooLarge()
    if not length and "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower():
        # Django reads a body without Content-Length as empty; gunicorn de-chunks wsgi.input,
        # so read it here, bounded, and hand Django a normal sized stream.
        body = meta["wsgi.input"].read(MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            raise PayloadTooLarge()
        django_request = getattr(request, "_request", request)
        django_request._stream = LimitedStream(io.BytesIO(body), len(body))
        meta["CONTENT_LENGTH"] = str(len(body))


class JSONParser(BaseParser):
    """Strict JSON: invalid UTF-8, NaN and nesting deeper than 1024 are parse errors, never 500s."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read(MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            raise PayloadTooLarge()
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise exceptions.ParseError(f"Malformed JSON body: {exc}") from exc


class FormEncodedJSONParser(JSONParser):
    """A JSON body sent as `application/x-www-form-urlencoded`, which is what `curl -d` sends."""

    media_type = "application/x-www-form-urlencoded"


class JSONRenderer(BaseRenderer):
    """Compact JSON in insertion order: the exact bytes of the Architect envelope."""

    media_type = "application/json"
    format = "json"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return orjson.dumps(data)


class PayloadTooLarge(exceptions.APIException):
    """The request body is over MAX_BODY_BYTES."""

    status_code = 413
    default_detail = f"Request body is larger than {MAX_BODY_BYTES // 1024} KiB"
    default_code = "payload_too_large"
