"""The README and docs/ stay true to the tree: every file they name exists, and docs/testing.md
lists every test module, so a newcomer who follows them finds what they describe."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A file name in backticks (`disputes/rules.py`, `test_claims.py:12`) or a relative Markdown link.
FILE_REFERENCE = re.compile(
    r"`([\w./-]+\.(?:py|html|md|txt|toml|yml|yaml|cfg|ini|sh|json|po|css|js))(?::[\d-]+)?`|\]\(([^)#:]+)\)"
)
# Files the performance history tells the removal of; they may be named there and nowhere else.
REMOVED_FILES = {"core/cache.py", "core/admin_forms.py", "disputes/admin_queue.py", "disputes/admin_selectors.py"}
HISTORY_PAGES = {"docs/performance.md", "docs/performance-history.md"}
# Addresses the site answers, not files.
SITE_ADDRESSES = {"robots.txt", "/robots.txt"}


def tracked_files() -> set[str]:
    listing = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(listing.stdout.split())


def documentation_pages(files: set[str]) -> list[str]:
    return ["README.md", *sorted(name for name in files if name.startswith("docs/") and name.endswith(".md"))]


def is_present(reference: str, page: str, files: set[str]) -> bool:
    folders = {str(Path(name).parent) for name in files}
    near_page = str((Path(page).parent / reference).as_posix())
    for candidate in (reference.rstrip("/"), near_page.rstrip("/"), f"templates/{reference}"):
        if candidate in files or candidate in folders:
            return True
    # A bare file name (`test_claims.py`, `_dispute_head.html`) names the file wherever it lives.
    return "/" not in reference and any(name.endswith(f"/{reference}") for name in files)


def test_docs_name_only_files_that_exist() -> None:
    files = tracked_files()
    missing = []
    for page in documentation_pages(files):
        for match in FILE_REFERENCE.finditer((ROOT / page).read_text()):
            reference = match.group(1) or match.group(2)
            if reference.startswith(("http", "django/")) or reference in SITE_ADDRESSES:
                continue
            if reference in REMOVED_FILES and page in HISTORY_PAGES:
                continue
            if not is_present(reference, page, files):
                missing.append(f"{page}: {reference}")
    assert missing == []


def test_testing_guide_lists_every_test_module() -> None:
    guide = (ROOT / "docs/testing.md").read_text()
    modules = sorted(path.name for path in (ROOT / "tests").glob("*.py") if path.name != "__init__.py")
    unlisted = [name for name in modules if f"`{name}`" not in guide and not name.startswith("test_browser_")]
    assert unlisted == []
