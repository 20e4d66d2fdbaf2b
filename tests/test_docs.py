"""The docs in the repository stay true: docs/tables.md is what the schema renders, every relative link in
README.md and docs/*.md reaches a file, and the README stays a short tour."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
README_MAX_LINES = 220
REGENERATE = ".venv/bin/python scripts/tables_doc.py"

# [text](target) and ![alt](target); the target ends at whitespace or the closing parenthesis
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.S | re.M)
CODE_SPAN = re.compile(r"`[^`\n]*`")


def _tables_doc():
    spec = importlib.util.spec_from_file_location("tables_doc", ROOT / "scripts" / "tables_doc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pages() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def _local_targets(text: str) -> list[str]:
    """Link targets in Markdown text, outside code blocks and code spans, that are not URLs."""
    text = CODE_SPAN.sub("", FENCE.sub("", text))
    return [t for t in LINK.findall(text) if not re.match(r"^[a-z][a-z0-9+.-]*:", t, re.I)]


def relative_links(text: str) -> list[str]:
    """Link targets that name a file of the repository (no URL, no bare #anchor), without their #anchor."""
    return [t.split("#", 1)[0] for t in _local_targets(text) if not t.startswith("#")]


def heading_anchors(text: str) -> set[str]:
    """The anchors a Markdown renderer gives the page's headings (GitHub's rule: lower case, punctuation
    dropped, spaces as hyphens)."""
    anchors = set()
    for line in FENCE.sub("", text).splitlines():
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            heading = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", match.group(1).replace("`", ""))
            anchors.add(re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-"))
    return anchors


def test_tables_doc_is_generated_from_the_schema():
    expected = _tables_doc().render()
    current = (DOCS / "tables.md").read_text(encoding="utf-8") if (DOCS / "tables.md").exists() else ""
    assert current == expected, (
        f"docs/tables.md is stale (warehouse/schema.py or warehouse/views.py changed): regenerate it with "
        f"`{REGENERATE}` and commit the result")


def test_relative_links_point_at_files():
    broken = []
    for page in _pages():
        for target in relative_links(page.read_text(encoding="utf-8")):
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert not broken, "links to files that do not exist:\n" + "\n".join(broken)


def test_anchors_point_at_headings():
    """A link to `page.md#part` (or `#part` on the same page) names a heading of that page."""
    broken = []
    for page in _pages():
        for target in _local_targets(page.read_text(encoding="utf-8")):
            path, _, anchor = target.partition("#")
            file = (page.parent / path) if path else page
            if anchor and file.suffix == ".md" and file.is_file() \
                    and anchor not in heading_anchors(file.read_text(encoding="utf-8")):
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert not broken, "links to headings that do not exist:\n" + "\n".join(broken)


def test_links_are_found():
    """The link finder itself: links are found, URLs, anchors and code are not."""
    text = ("See [a](docs/a.md#part), ![b](img/b.png) and [c](https://x.org), [d](#here).\n"
            "`[e](e.md)`\n```\n[f](f.md)\n```\n")
    assert relative_links(text) == ["docs/a.md", "img/b.png"]
    assert heading_anchors("# The `run` step: a, b\n```\n# not a heading\n```\n") == {"the-run-step-a-b"}


def test_readme_is_a_short_tour():
    lines = len(README.read_text(encoding="utf-8").splitlines())
    assert lines < README_MAX_LINES, (
        f"README.md has {lines} lines (under {README_MAX_LINES} wanted): move the detail into a page of docs/ "
        f"and link to it")
