"""The README, docs/, python/ and cpp/ stand on their own: no pointer to files a clone does not
have (a development machine's paths, notes kept outside the repository, issue numbers, numbered
sections of an outside spec), and every relative Markdown link leads to a file and heading that
exist. The data folder beside the clone (../shared/data, or $ATPN_SHARED_DATA) is a documented
input, not such a pointer."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SUFFIXES = {".md", ".py", ".cpp", ".h", ".hpp", ".cu", ".cuh", ".txt", ".sh", ".cmake", ".toml", ".yaml"}
OUTSIDE = [
    (re.compile(r"/work/"), "an absolute path of a development machine"),
    (re.compile(r"\bSPEC(?:\.md)?\s*(?:section|§|sec\.?)?\s*\d"), "a numbered section of an outside spec"),
    (re.compile(r"\bSPEC section\b"), "a numbered section of an outside spec"),
    (re.compile(r"FINDINGS"), "notes kept outside the repository"),
    (re.compile(r"\bissues?\s*#?\d+\b", re.I), "an issue number"),
    (re.compile(r"\.\./shared/docs"), "docs outside the repository"),
]


def files() -> list[Path]:
    out = [REPO / "README.md"]
    for top in ("docs", "python", "cpp"):
        out += [p for p in (REPO / top).rglob("*") if p.is_file() and p.suffix in SUFFIXES]
    return sorted(out)


def outside_references(text: str) -> list[str]:
    return [why for pattern, why in OUTSIDE if pattern.search(text)]


def test_nothing_points_outside_the_repository():
    bad = []
    for path in files():
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            whys = outside_references(line)
            if whys:
                bad.append(f"{path.relative_to(REPO)}:{n}: {whys[0]}: {line.strip()[:120]}")
    assert not bad, "say the fact instead of pointing outside the repository:\n" + "\n".join(bad)


@pytest.mark.parametrize("line", ["see SPEC section 4", "(SPEC 6)", "FINDINGS.md says", "issue 10 item 7",
                                  "Goals (issue 5)", "# /work/shared/data/300w", "../shared/docs/SPEC.md"])
def test_the_scan_catches_outside_references(line):
    assert outside_references(line)


@pytest.mark.parametrize("line", ["docs/SPEC.md#kernels", "../shared/data (or $ATPN_SHARED_DATA)",
                                  "tests/test_issues.py", "the spec's heatmap formula"])
def test_the_scan_passes_plain_facts(line):
    assert not outside_references(line)


def _anchors(md: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes."""
    out = set()
    for line in md.read_text(encoding="utf-8").splitlines():
        m = re.match(r"#{1,6}\s+(.*)", line)
        if m:
            slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            out.add(slug)
    return out


def test_markdown_links_resolve():
    bad = []
    for md in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), *sorted((REPO / "engines").rglob("*.md"))]:
        for target in re.findall(r"\]\(([^)\s]+)\)", md.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target) or target.startswith("#") and not target[1:]:
                continue
            path_part, _, anchor = target.partition("#")
            dest = (md.parent / path_part).resolve() if path_part else md
            if not dest.exists():
                bad.append(f"{md.relative_to(REPO)}: {target}: no such file")
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
                bad.append(f"{md.relative_to(REPO)}: {target}: no such heading")
    assert not bad, "\n".join(bad)
