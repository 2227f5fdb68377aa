"""The house: layered rooms, no import cycles, a light package root, and a README that
describes the folders that exist."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("trafilatura", "scrapy", "pyarrow", "spdx_tools", "extruct", "twisted", "pebble")


def _loaded_after(code: str) -> list[str]:
    """The heavy libraries a fresh interpreter has loaded after running ``code``."""
    probe = f"{code}\nimport sys\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True, cwd=ROOT)
    return [m for m in result.stdout.strip().split(",") if m]


def test_import_crawler_loads_nothing_heavy() -> None:
    assert _loaded_after("import crawler") == []


def test_inspect_is_still_one_attribute_away() -> None:
    assert _loaded_after("import crawler\nassert callable(crawler.inspect)") != []


def test_cli_parser_with_every_subcommand_loads_nothing_heavy() -> None:
    code = "from crawler.cli import build_parser\nbuild_parser().format_help()"
    assert _loaded_after(code) == []


def test_help_lists_every_subcommand() -> None:
    result = subprocess.run([sys.executable, "-m", "crawler.cli", "--help"],
                            capture_output=True, text=True, check=True, cwd=ROOT)
    from crawler.cli import SUBCOMMANDS

    for name in SUBCOMMANDS:
        assert name in result.stdout


def test_no_import_cycles() -> None:
    graph = grimp.build_graph("crawler")
    cycles = set()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            if graph.find_shortest_chain(importer=imported, imported=module):
                cycles.add(tuple(sorted((module, imported))))
    assert cycles == set()


def _crawler_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {n for n in names if n.startswith("crawler")}


def test_spiders_sit_between_cli_and_fetch() -> None:
    """grimp cannot see the mapped spiders/ folder, so this checks it by hand."""
    for path in (ROOT / "spiders").glob("*.py"):
        for name in _crawler_imports(path):
            assert not name.startswith(("crawler.cli", "crawler.stages.filter")), (path, name)
    for path in (ROOT / "crawler").rglob("*.py"):
        if "cli" in path.relative_to(ROOT / "crawler").parts:
            continue
        assert not any(n.startswith("crawler.spiders") for n in _crawler_imports(path)), path


def test_readme_architecture_names_every_room() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`(crawler/[a-z_/]+?)/?`", section))
    rooms = {init.parent.relative_to(ROOT).as_posix()
             for init in (ROOT / "crawler").glob("*/**/__init__.py")}
    missing = sorted(r for r in rooms if r not in named)
    assert missing == []
    stale = sorted(n for n in named if not (ROOT / n).exists())
    assert stale == []
