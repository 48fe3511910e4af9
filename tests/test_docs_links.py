"""Every relative link in README.md and docs/*.md reaches a file, and every #anchor a heading of
that page (as GitHub makes anchors of headings); every docs page is linked from the README."""
import re

import pytest

from helpers import ROOT

PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))


def anchors(page):
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered."""
    seen, out = {}, set()
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    for heading in re.findall(r"^#{1,6}\s+(.*?)\s*$", text, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def links(page):
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    return [u for u in re.findall(r"\]\(([^)\s]+)\)", text) if not re.match(r"[a-z]+:", u)]


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_relative_links_and_anchors_resolve(page):
    broken = []
    for url in links(page):
        path, _, fragment = url.partition("#")
        target = (page.parent / path) if path else page
        if not target.exists():
            broken.append(f"{url}: no such file")
        elif fragment and target.suffix == ".md" and fragment not in anchors(target):
            broken.append(f"{url}: no heading makes #{fragment}")
    assert not broken, f"{page.name}: " + "; ".join(broken)


def test_every_docs_page_is_linked_from_the_readme():
    linked = {(ROOT / u.partition("#")[0]).resolve() for u in links(ROOT / "README.md")}
    missing = [p.name for p in PAGES[1:] if p.resolve() not in linked]
    assert not missing, f"docs pages the README does not link: {missing}"


def test_the_link_check_sees_a_broken_link(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n## A `code` heading, too\n\n[ok](#a-code-heading-too) [bad](#nowhere)\n")
    assert anchors(page) == {"title", "a-code-heading-too"}
    assert links(page) == ["#a-code-heading-too", "#nowhere"]
