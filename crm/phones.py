"""The one phone normalisation function (design §6) and the field that uses it."""

import re
from urllib.parse import unquote

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EMPTY_VALUES
from phonenumber_field.phonenumber import PhoneNumber

# Longer input is not a phone number; refusing it early keeps hostile bodies cheap. A SIP
# name-addr with a display name, host and tag can pass 100 characters, so the cap is 256.
MAX_INPUT_LENGTH = 256

# Words carriers and Genesys put where a withheld caller's number would be.
WITHHELD = frozenset({"anonymous", "unknown", "restricted", "private", "unavailable", "withheld"})

_URI_SCHEME = re.compile(r"^(tel|sips?):\s*", re.IGNORECASE)

# RFC 3261 name-addr: [display-name] "<" addr-spec ">" *(";" header-param). The display name
# is a quoted-string (which may hold "<", ">" and escaped quotes) or plain tokens.
_NAME_ADDR = re.compile(r'\s*(?:"(?:[^"\\]|\\.)*"\s*|[^"<]*)<([^>]*)>', re.DOTALL)

# RFC 3966 visual separators, dropped when a global number prefix meets a local number.
_VISUAL_SEPARATORS = re.compile(r"[-.()\s]")

# Most callers arrive as +1 and ten digits (Genesys' Call.Ani in NANP). For that shape
# phonenumbers returns the text unchanged (ten digits are the one possible NANP length, and
# an area code 2-9 has no national prefix to strip; tests compare both paths), so the
# lookup's hot path skips a parse that costs about a sixth of its CPU.
_NANP_E164 = re.compile(r"\+1[2-9][0-9]{9}")


def normalize_phone(raw: object, region: str | None = None) -> str | None:
    """Return the E.164 form of a phone number or caller URI, or None when it holds no possible number."""
    if not isinstance(raw, str) or len(raw) > MAX_INPUT_LENGTH:
        return None
    text = raw.strip()
    if "<" in text:
        name_addr = _NAME_ADDR.match(text)
        if name_addr:
            text = name_addr.group(1).strip()  # "Alice" <sip:+1...@host>;tag=x -> the URI
    scheme = _URI_SCHEME.match(text)
    if scheme:
        text = uri_subscriber(text[scheme.end() :], sip=scheme.group(1).lower() != "tel")
    if not text or text.lower() in WITHHELD:
        return None
    if _NANP_E164.fullmatch(text):
        return text
    return parse_to_e164(text, region)


def uri_subscriber(rest: str, *, sip: bool) -> str:
    """The number a tel: or sip: URI (after its scheme) names, decoded; "" when it names none.

    A SIP user part and a tel: subscriber share RFC 3966's shape: digits, then ;params. Each
    piece is split before it is percent-decoded, so an escaped ";" or "@" stays data.
    """
    if sip:
        user, at, _host = rest.partition("@")
        if not at:
            user = user.split("?", 1)[0]  # no host: sip:+15551234567?headers
        rest = user.split(":", 1)[0]  # user:password@host
    number, *params = rest.split(";")
    number = unquote(number).strip() if "%" in number else number.strip()
    if "@" in number:
        return ""  # an internal WebRTC user, sip:user%40domain@localhost: a person, not a number
    if params and not number.startswith("+"):
        for param in params:
            name, _, value = param.partition("=")
            value = unquote(value).strip()
            # A local number in the context of a global number prefix (RFC 3966 5.1.5), e.g.
            # tel:555-123-4567;phone-context=+1. A domain context keeps the number national.
            if name.strip().lower() == "phone-context" and value.startswith("+"):
                return _VISUAL_SEPARATORS.sub("", value) + _VISUAL_SEPARATORS.sub("", number)
    return number


def parse_to_e164(text: str, region: str | None = None) -> str | None:
    """The E.164 form of text that phonenumbers can parse as a *possible* number, else None."""
    try:
        number = phonenumbers.parse(text, region or settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    # is_possible_number would also accept IS_POSSIBLE_LOCAL_ONLY (a 7-digit US number
    # without area code), whose E.164 form would be wrong; only a full number will do.
    # is_valid_number is the wrong test: it rejects fictional 555 numbers and ranges
    # newer than the library's metadata.
    if phonenumbers.is_possible_number_with_reason(number) != phonenumbers.ValidationResult.IS_POSSIBLE:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def to_phone_number(value, region: str | None = None):
    """Turn user input into a PhoneNumber in E.164, keeping the raw text when it is not a possible number."""
    if value in EMPTY_VALUES:
        return value
    if isinstance(value, phonenumbers.PhoneNumber) and value.country_code:
        value = phonenumbers.format_number(value, phonenumbers.PhoneNumberFormat.E164)
    text = str(value)
    e164 = normalize_phone(text, region)
    if e164 is None:
        return PhoneNumber(raw_input=text)
    return PhoneNumber.from_string(e164)


def validate_possible_phone(value) -> None:
    """Reject input that is not a possible phone number (length and shape for its region)."""
    if value in EMPTY_VALUES:
        return
    if normalize_phone(str(value)) is None:
        raise ValidationError(
            "Enter a phone number such as +15551234567 or (555) 123-4567; %(value)s is not a possible number.",
            code="not_possible",
            params={"value": str(value)},
        )
