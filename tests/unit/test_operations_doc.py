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
        assert text == (ROOT / path).read_text(), f"docs/operations.md differs from {path}"
