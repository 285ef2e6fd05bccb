"""What both probes print and conclude: the report, masked headers, and the causes they name alike."""

import json
from dataclasses import dataclass, field

from crm.phones import normalize_phone


@dataclass
class Report:
    """The probe's verdict; `lines` is what the command prints."""

    ok: bool
    cause: str = ""
    lines: list = field(default_factory=list)


def fail(report: Report, cause: str, fix: str) -> Report:
    report.ok, report.cause = False, cause.split(":", 1)[0]
    report.lines.append(f"Cause: {cause}")
    report.lines.append(f"Fix: {fix}")
    return report


def mask(token: str) -> str:
    """Enough of a token to recognise it, never the token."""
    shown = token[:4] if len(token) >= 16 else ""  # a short secret would be half given away
    return f"{shown}… ({len(token)} chars)"


def show_headers(out, headers: dict, token: str) -> None:
    """One line a header, the token masked in Authorization."""
    for key, value in headers.items():
        shown = value.replace(token, mask(token)) if token and key.lower() == "authorization" else value
        out(f"Header: {key}: {shown}")


def shorten(body: bytes, limit: int = 300) -> str:
    text = body.decode("utf-8", "replace").replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"


def error_message(body: bytes) -> str:
    """The `error` of a JSON error body, or the body itself."""
    try:
        answer = json.loads(body)
    except (ValueError, TypeError):
        return shorten(body, 120)
    if isinstance(answer, dict) and isinstance(answer.get("error"), str):
        return answer["error"]
    return shorten(body, 120)


def token_mismatch(token: str, header: str, status: int, *, node: bool = False) -> tuple[str, str]:
    """Why the server refused the token; `node` adds what only a tutorial node can get wrong."""
    if token != token.strip():
        where = "leading" if token[:1].isspace() else "trailing"
        detail = f"the token has {where} whitespace, so the header is not 'Bearer <token>'"
        fix = "Remove the spaces around the token in the credential field `token`"
        fix += " (and in the node's header)." if node else "."
    elif token.lower().startswith("bearer "):
        detail = "the token itself starts with 'Bearer ', so the header reads 'Bearer Bearer …'"
        fix = "Put only the token in the credential field `token`; the action's header adds 'Bearer '."
    elif node and any(ch.isspace() for ch in token):
        detail = "the token contains whitespace"
        fix = "Copy the token again as one word (create_lookup_token prints it on its last line)."
    elif not header.lower().startswith("bearer "):
        detail = "the Authorization header does not start with 'Bearer '"
        fix = "Write the header as 'Bearer ${credentials.token}'"
        fix += " (in a node: 'Bearer <token>')." if node else "."
    else:
        detail = "the server does not know this token (mistyped, revoked, or from another server)"
        command = "python manage.py create_lookup_token" if node else "create_lookup_token"
        fix = (
            f"Create a token on this server ({command} genesys-prod) and paste it, "
            "exactly, into the integration's credential field `token`."
        )
    return f"token mismatch: the server answered {status}; {detail}.", fix


def variants(phone: str) -> list[str]:
    """Other spellings of the caller a legacy server may have stored: E.164, and its digits without '+'."""
    e164 = normalize_phone(phone)
    if e164 is None:
        return []
    return [candidate for candidate in dict.fromkeys((e164, e164.lstrip("+"))) if candidate != phone]


def number_format_mismatch(phone: str, candidate: str) -> tuple[str, str]:
    """The caller is found under another spelling than the one sent."""
    return (
        f"number-format mismatch: {json.dumps(phone)} is not found, but {json.dumps(candidate)} is; "
        "the server compares numbers as text.",
        "Normalise numbers on the server before storing and looking them up (this project's "
        "crm.phones.normalize_phone turns tel:+1…, +1…, 1… and (555) 123-4567 into one E.164 form).",
    )
