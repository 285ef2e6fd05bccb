"""Writes that span a rule: creating tokens."""

from django.db import IntegrityError, transaction

from lookup.models import ApiToken

MIN_TOKEN_LENGTH = 20
# A Genesys credential field and an HTTP header both stay well within this.
MAX_TOKEN_LENGTH = 512


class TokenError(ValueError):
    """A token cannot be created as asked; the message says why."""


def token_create(*, name: str, raw: str | None = None) -> tuple[ApiToken, str]:
    """Create a named token and return it with its raw value, which is not stored anywhere."""
    name = name.strip()
    if not name:
        raise TokenError("A token needs a name, e.g. genesys-prod.")
    limit = ApiToken._meta.get_field("name").max_length
    if len(name) > limit:
        raise TokenError(f"A token name is at most {limit} characters (this one has {len(name)}).")
    if raw is None:
        raw = ApiToken.generate_raw()
    elif len(raw) < MIN_TOKEN_LENGTH or raw != raw.strip() or " " in raw:
        raise TokenError(f"A token must be at least {MIN_TOKEN_LENGTH} characters without spaces.")
    elif len(raw) > MAX_TOKEN_LENGTH or not raw.isprintable() or not raw.isascii():
        raise TokenError(f"A token must be at most {MAX_TOKEN_LENGTH} printable ASCII characters.")
    token = ApiToken(name=name)
    token.set_raw(raw)
    try:
        with transaction.atomic():
            token.save()
    except IntegrityError:
        if ApiToken.objects.active().filter(name=name).exists():
            raise TokenError(
                f"An active token named {name!r} already exists; revoke it or pick another name."
            ) from None
        raise TokenError("That token value is already in use; choose another.") from None
    return token, raw
