"""MkDocs hook: the API reference pages, made from the nav.

The list of documented modules lives in one place, the "API reference" section of
mkdocs.yml's nav. Every nav entry `reference/<dotted.module.name>.md` that has no file
under docs/ becomes a page that mkdocstrings renders from the docstrings, so renaming
a module is a one-line change in the nav:

- a module: `::: module`;
- a package: its docstring, then each of its submodules in turn (so every object is
  documented once, where it is defined; a name the package re-exports links there);
- the top-level package: its docstring and a table of what `import behavstats as bs`
  exports, each name linked to its documentation (so `mkdocs build --strict` fails on
  an export that points nowhere).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections import defaultdict
from pathlib import Path

import griffe
from mkdocs.structure.files import File, Files

PACKAGE = "behavstats"
MODULE_PAGE = re.compile(rf"^reference/({PACKAGE}(?:\.\w+)*)\.md$")


def _nav_paths(nav) -> list[str]:
    """Every page path of a nav (nested lists of strings and one-key dicts)."""
    if isinstance(nav, str):
        return [nav]
    items = nav.values() if isinstance(nav, dict) else nav if isinstance(nav, list) else []
    return [path for item in items for path in _nav_paths(item)]


def _summary(home: str, name: str, root: str) -> str:
    """The first paragraph of an exported object's docstring, on one line, safe in a
    table cell. A plain value's (a constant's) docstring is the string literal after
    it, which only a static reading finds (its __doc__ is its type's)."""
    obj = getattr(importlib.import_module(home), name)
    if inspect.isclass(obj) or inspect.isroutine(obj):
        doc = inspect.getdoc(obj) or ""
    else:
        docstring = griffe.load(home, search_paths=[root])[name].docstring
        doc = docstring.value if docstring else ""
    return " ".join(doc.split("\n\n")[0].split()).replace("|", "\\|")


def _home(package, name: str) -> tuple[str, str]:
    """The module an exported name is imported from and its name there (the package's
    `_EXPORTS` writes 'module:attribute' for a name exported under another one)."""
    exports = getattr(package, "_EXPORTS", {})
    module, _, attribute = (exports.get(name) or getattr(package, name).__module__
                            ).partition(":")
    return module, attribute or name


def exports_table(root: str) -> str:
    """What the top-level package exports, by module, each name linked to its docs."""
    package = importlib.import_module(PACKAGE)
    by_module = defaultdict(list)
    for name in getattr(package, "__all__", []):
        if not name.startswith("_"):
            home, attribute = _home(package, name)
            by_module[home].append((name, attribute, _summary(home, attribute, root)))
    parts = ["## What `import behavstats as bs` gives\n"]
    for home, members in by_module.items():
        parts.append(f"### [`{home}`][{home}]\n\n| name | what it is |\n|---|---|")
        parts += [f"| [`bs.{name}`][{home}.{attribute}] | {summary} |"
                  for name, attribute, summary in members]
        parts.append("")
    return "\n".join(parts)


def page_source(module: str, root: str) -> str:
    """The Markdown of one module's reference page (`root`: the source checkout)."""
    docstring_only = f"::: {module}\n    options:\n      members: false\n"
    if module == PACKAGE:
        return f"{docstring_only}\n{exports_table(root)}"
    imported = importlib.import_module(module)
    if not hasattr(imported, "__path__"):
        return f"::: {module}\n"
    submodules = sorted(info.name for info in pkgutil.iter_modules(imported.__path__)
                        if not info.name.startswith("_"))
    return docstring_only + "".join(
        f"\n::: {module}.{sub}\n    options:\n      heading_level: 2\n" for sub in submodules)


def on_files(files: Files, config) -> Files:
    root = str(Path(config["config_file_path"]).parent)
    for path in _nav_paths(config["nav"] or []):
        match = MODULE_PAGE.match(path)
        if match and files.get_file_from_path(path) is None:
            files.append(File.generated(config, path, content=page_source(match[1], root)))
    return files
