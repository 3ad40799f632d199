"""mkdocs hooks: pages made at build time, and links that work on the site and in the repository.

- ``model/variables.md`` is made from the .mdl by :func:`debtloops.model.reference.markdown`; the
  file of that name in docs/ is only what GitHub shows in its place.
- Markdown files kept elsewhere in the repository are included as pages, read as they are at build
  time (never copied into docs/): the loop inventory and the changelog (:data:`INCLUDED`).
- ``tutorial.md`` is the notebook ``docs/tutorial.ipynb`` with its stored outputs; pages link to
  the notebook (which GitHub shows), and on the site those links lead to this page.
- A page's relative link to a repository file outside docs/ (``../models/parameters.toml``) works
  on GitHub as written; on the site the file is published under ``repo/`` and the link rewritten
  to it. A link to a folder becomes plain text, as a site cannot list a folder.
"""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path

from mkdocs.structure.files import File, Files

from debtloops.model import reference

#: The repository's root (this file is docs/hooks.py).
ROOT = Path(__file__).resolve().parents[1]
#: Repository Markdown files shown as site pages: repository path -> page path on the site.
INCLUDED = {
    "README.md": "index.md",
    "models/README.md": "model/inventory.md",
    "CHANGELOG.md": "changelog.md",
}
#: The page made from the .mdl.
GENERATED_VARIABLES = "model/variables.md"
#: The notebook, and the page made from it.
TUTORIAL = "docs/tutorial.ipynb"
TUTORIAL_PAGE = "tutorial.md"
#: Repository files whose links lead to a page made from them: repository path -> page path.
ALIASES = {TUTORIAL: TUTORIAL_PAGE}
#: Where repository files that pages link to are published on the site.
REPO_PREFIX = "repo/"
#: A Markdown inline link or image: [text](target) or [text](target "title").
LINK = re.compile(
    r"(?P<bang>!?)\[(?P<text>[^\]\n]*)\]\((?P<target>[^)\s]+)(?P<title>\s+\"[^\"]*\")?\)"
)
#: Targets left alone: absolute URLs, anchors on the same page, site-absolute paths, data URIs.
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|#|/)", re.IGNORECASE)

#: Site page path -> the repository path of the Markdown it was made from.
_origins: dict[str, str] = {}


def _notebook_markdown(path: Path) -> str:
    """Return a notebook as Markdown: its text cells, code and stored outputs (images inline)."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    parts = []
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            parts.append(source)
            if not parts[1:]:  # after the title: where to get the notebook itself
                parts.append(
                    '<p><a href="tutorial.ipynb" download>Download the notebook</a>; the outputs '
                    "below are those stored in it, made by running it from top to bottom.</p>"
                )
            continue
        parts.append(f"```python\n{source}\n```")
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if output["output_type"] == "stream":
                parts.append(f"```text\n{''.join(output['text']).rstrip()}\n```")
            elif "image/png" in data:
                png = "".join(data["image/png"]).replace("\n", "")
                parts.append(f"![output](data:image/png;base64,{png})")
            elif "text/html" in data:
                parts.append(f'<div class="nb-output">\n{"".join(data["text/html"])}\n</div>')
            elif "text/plain" in data:
                parts.append(f"```text\n{''.join(data['text/plain']).rstrip()}\n```")
    return "\n\n".join(parts) + "\n"


def _resolve(origin: str, target: str) -> str:
    """Return the repository path a relative link of the file ``origin`` points to."""
    return posixpath.normpath(posixpath.join(posixpath.dirname(origin), target))


def _site_path(repo_path: str) -> str | None:
    """Return where a repository file is on the site, or None for a folder or a missing file."""
    if repo_path in ALIASES:
        return ALIASES[repo_path]
    if repo_path.startswith("docs/"):
        return repo_path.removeprefix("docs/")
    if repo_path in INCLUDED:
        return INCLUDED[repo_path]
    if (ROOT / repo_path).is_file():
        return REPO_PREFIX + repo_path
    return None


def _links(markdown: str, origin: str) -> list[str]:
    """Return the repository paths of the relative links in a page's Markdown."""
    found = []
    for match in LINK.finditer(markdown):
        target = match["target"].split("#", 1)[0]
        if target and not EXTERNAL.match(target):
            found.append(_resolve(origin, target))
    return found


def _add_page(files: Files, config, uri: str, origin: str, content: str) -> None:
    files.append(File.generated(config, uri, content=content))
    _origins[uri] = origin


def on_files(files: Files, config) -> Files:
    """Add the generated and included pages, and every repository file a page links to."""
    _origins.clear()
    for file in files.documentation_pages():
        _origins[file.src_uri] = "docs/" + file.src_uri
    files.remove(files.get_file_from_path(GENERATED_VARIABLES))
    _add_page(
        files, config, GENERATED_VARIABLES, "docs/" + GENERATED_VARIABLES, reference.markdown()
    )
    _add_page(files, config, TUTORIAL_PAGE, TUTORIAL, _notebook_markdown(ROOT / TUTORIAL))
    for repo_path, uri in INCLUDED.items():
        _add_page(files, config, uri, repo_path, (ROOT / repo_path).read_text(encoding="utf-8"))
    # Follow the links outward: a linked Markdown file becomes a page whose links count too.
    pending = list(_origins.items())
    while pending:
        uri, origin = pending.pop()
        file = files.get_file_from_path(uri)
        text = file.content_string if file is not None else ""
        for repo_path in _links(text, origin):
            site = _site_path(repo_path)
            if site is None or not site.startswith(REPO_PREFIX) or files.get_file_from_path(site):
                continue
            if site.endswith(".md"):
                content = (ROOT / repo_path).read_text(encoding="utf-8")
                _add_page(files, config, site, repo_path, content)
                pending.append((site, repo_path))
            else:
                files.append(File.generated(config, site, abs_src_path=str(ROOT / repo_path)))
    return files


def on_page_markdown(markdown: str, page, config, files: Files) -> str:
    """Rewrite a page's relative links from repository paths to site paths."""
    uri = page.file.src_uri
    origin = _origins.get(uri, "docs/" + uri)

    def rewrite(match: re.Match[str]) -> str:
        target = match["target"]
        if EXTERNAL.match(target):
            return match[0]
        path, _, anchor = target.partition("#")
        if not path:
            return match[0]
        repo_path = _resolve(origin, path)
        site = _site_path(repo_path)
        if site is None:
            if (ROOT / repo_path).is_dir():  # a folder: keep the words, drop the link
                return match["text"]
            return match[0]  # missing: mkdocs --strict names it
        relative = posixpath.relpath(site, posixpath.dirname(uri) or ".")
        anchor = "#" + anchor if anchor else ""
        return f"{match['bang']}[{match['text']}]({relative}{anchor}{match['title'] or ''})"

    return LINK.sub(rewrite, markdown)
