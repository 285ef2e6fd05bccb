"""docs/operations.md shows the rehearsal's own configuration files, never a copy that drifted."""

import re

from tests.servers import ROOT

BLOCK = re.compile(r"<!-- file: (?P<path>[^ ]+) -->\n```[a-z]*\n(?P<text>.*?)```\n", re.S)


def test_every_embedded_file_equals_the_file_the_rehearsal_uses():
    doc = (ROOT / "docs" / "operations.md").read_text()
    blocks = {m["path"]: m["text"] for m in BLOCK.finditer(doc)}
    shipped = {str(p.relative_to(ROOT)) for p in (ROOT / "scripts" / "cluster").iterdir()}
    assert set(blocks) == shipped  # every file the rehearsal uses is shown
    for path, text in blocks.items():
        shipped_text = (ROOT / path).read_text()
        # A code block ends with a newline; a file may not (503.http: HAProxy sends every byte).
        assert text == shipped_text + ("" if shipped_text.endswith("\n") else "\n"), (
            f"docs/operations.md differs from {path}"
        )


def test_the_balancers_own_503_is_the_apps_compact_json_error():
    head, body = (ROOT / "scripts" / "cluster" / "503.http").read_bytes().split(b"\n\n", 1)
    assert head.splitlines()[0] == b"HTTP/1.0 503 Service Unavailable"
    assert b"Content-Type: application/json" in head.splitlines()
    # Byte for byte as json_error() writes it: no trailing newline, which HAProxy would send too.
    assert body == b'{"error":"Service unavailable; try again shortly"}'
