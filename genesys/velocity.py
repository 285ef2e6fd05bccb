"""The Velocity subset Genesys data actions use: references, their silent forms and the $esc tool."""

import json
import re
from urllib.parse import quote_plus

# A reference is ${a.b} or $a.b; an escape call is $esc.jsonString(REF) or $esc.url(REF). Each may
# be silent ($!): a null then prints nothing instead of the reference's own text.
_REF = r"\$!?(?:\{[A-Za-z_][\w.]*\}|[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)"
_VELOCITY = re.compile(
    rf"(?P<call>\$(?P<call_silent>!?)esc\.(?P<func>jsonString|url)\((?P<arg>{_REF})\))"
    r"|(?P<ref>\$(?P<ref_silent>!?)(?:\{(?P<braced>[A-Za-z_][\w.]*)\}|(?P<bare>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)))"
)
_NAME = re.compile(r"\$!?\{?([\w.]+)\}?")

ESCAPES = {
    # Escapes for a JSON string and adds no quotes, as Genesys documents $esc.jsonString.
    "jsonString": lambda text: json.dumps(text, ensure_ascii=False)[1:-1],
    # Java's URLEncoder (form encoding: a space is "+"), which Velocity's $esc.url uses.
    "url": lambda text: quote_plus(text, safe="*"),
}


def lookup(context: dict, path: str):
    """The value at a dotted path, or None when any part is missing (Velocity's null)."""
    value = context
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def render(template: str, context: dict) -> str:
    """Render the template; a null reference prints its own text unless it is silent ($!)."""

    def replace(match: re.Match) -> str:
        if match["call"]:
            value = lookup(context, _NAME.fullmatch(match["arg"])[1])
            if value is None:
                return "" if match["call_silent"] else match["call"]
            return ESCAPES[match["func"]](str(value))
        value = lookup(context, match["braced"] or match["bare"])
        if value is None:
            return "" if match["ref_silent"] else match["ref"]
        return str(value)

    return _VELOCITY.sub(replace, template)
