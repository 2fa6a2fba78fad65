"""Griffe extension: the package's docstring conventions as mkdocstrings sections.

The code documents tables and fitted attributes in two plain-text shapes that read well
in `help()` but run together into one paragraph when rendered as Markdown:

- a class docstring listing its fields, one `name: text` entry per field with
  indented continuation lines (every `Result` documents its tables so);
- a NumPy-style `Attributes` heading over a dashed line with `name_ : text` entries
  (the estimators' fitted attributes).

Both become a Google-style `Attributes:` section, which mkdocstrings renders as a table
(name, type, description). A dataclass field described there and without a docstring
of its own is not listed a second time as an undocumented member. The docstrings in the
code are left as they are. Names with placeholders written outside code spans, such as
tv_<a>_<b> or out_dir/<name>, become code spans, so that Markdown takes them neither for
HTML tags nor for emphasis; any other `<` that could open a tag is escaped, and so is
a `*` between two words (`1*steps`, a product, not emphasis). An estimator's
`self.x = x` (a parameter stored by `__init__`, scikit-learn's rule) is documented by
the class signature and not listed again as an attribute.

Dataclasses (the settings and the Results): a field documented in a base class's table
gets its row in the subclass's table too (every experiment's `mode` and `seed`, from
`Experiment`), so a settings class's table lists all of its settings; a class-level
constant without a docstring of its own (`implementation`, `topic`, `settings_type`:
no annotation, or `ClassVar`) is machinery, not a field, and is not listed.
"""

from __future__ import annotations

import re

import griffe

ENTRY = re.compile(r"^(?P<names>[A-Za-z_]\w*(?:, [A-Za-z_]\w*)*) ?: (?P<text>\S.*)$")
DASHES = re.compile(r"^-{3,}$")
INDENT = " " * 4
CODE_SPAN = re.compile(r"(`+).*?\1", re.DOTALL)
PLACEHOLDER_NAME = re.compile(r"(?<![\w`])[\w./]*<\w+>(?:[\w/<>]|\.(?=\w))*")
TAG_LIKE = re.compile(r"<(?=[A-Za-z/])")
PRODUCT = re.compile(r"(?<=\w)\*(?=\w)")


def _escape_prose(text: str) -> str:
    text = PLACEHOLDER_NAME.sub(lambda m: f"`{m.group()}`", text)
    pieces, end = [], 0
    for span in CODE_SPAN.finditer(text):
        pieces += [_escape_plain(text[end:span.start()]), span.group()]
        end = span.end()
    return "".join([*pieces, _escape_plain(text[end:])])


def _escape_plain(text: str) -> str:
    return PRODUCT.sub(r"\\*", TAG_LIKE.sub("&lt;", text))


def escape_tags(text: str) -> str:
    """Outside code spans: placeholder names as code spans, other tag-like `<` as
    `&lt;`."""
    pieces, end = [], 0
    for span in CODE_SPAN.finditer(text):
        pieces += [_escape_prose(text[end:span.start()]), span.group()]
        end = span.end()
    return "".join([*pieces, _escape_prose(text[end:])])


def _entries(lines: list[str], known: set[str] | None) -> list[str] | None:
    """A paragraph of `name: text` entries (continuations indented) as Google section
    items, or None if the paragraph is not one (`known`: the names allowed)."""
    items = []
    for line in lines:
        match = ENTRY.match(line)
        if match and (known is None or set(match["names"].split(", ")) <= known):
            items.append(f"{INDENT}{match['names']}: {match['text']}")
        elif line.startswith(" ") and items:
            items.append(f"{INDENT * 2}{line.strip()}")
        else:
            return None
    return items


def _names(item: str) -> list[str]:
    """The names an entry's first line documents."""
    return item.strip().split(": ", 1)[0].split(", ")


def convert(text: str, known: set[str]) -> tuple[str, list[str]]:
    """The docstring with its field lists as one `Attributes:` section (last), and
    that section's items (entries, each followed by its continuation lines)."""
    paragraphs = [p.split("\n") for p in text.split("\n\n")]
    kept, items = [], []
    for lines in paragraphs:
        if len(lines) > 1 and lines[0].strip() == "Attributes" and DASHES.match(lines[1]):
            numpy = _entries(lines[2:], None)
            if numpy is not None:
                items += numpy
                continue
        fields = _entries(lines, known) if ENTRY.match(lines[0]) else None
        if fields is not None:
            items += fields
        else:
            kept.append("\n".join(lines))
    if not items:
        return text, []
    items = [line for group in _entry_groups(items) for line in _one_per_name(group)]
    return "\n\n".join([*kept, "Attributes:\n" + "\n".join(items)]), items


def _one_per_name(group: list[str]) -> list[str]:
    """An entry documenting several names (`n_pairs, threshold: ...`) as one entry per
    name with the same text: the Google style has one name per entry (it would read
    `n_pairs,` as the name and `threshold` as its type)."""
    names = _names(group[0])
    text = group[0].strip().split(": ", 1)[1]
    return [line for name in names for line in [f"{INDENT}{name}: {text}", *group[1:]]]


def _entry_groups(items: list[str]) -> list[list[str]]:
    """The items grouped by entry: its first line and its continuations."""
    groups: list[list[str]] = []
    for item in items:
        if item.startswith(INDENT * 2) and groups:
            groups[-1].append(item)
        else:
            groups.append([item])
    return groups


def _is_constant(member) -> bool:
    """A dataclass's class-level constant (no annotation, or ClassVar): not a field."""
    return (member.is_attribute and not member.docstring
            and (member.annotation is None or str(member.annotation).startswith("ClassVar")))


class DocstringSections(griffe.Extension):
    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}  # class path -> its table's entries

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = escape_tags(obj.docstring.value)

    def on_class_members(self, *, cls: griffe.Class, **kwargs) -> None:
        if cls.docstring is None:
            return
        known = {name for name in cls.members if not name.startswith("_")}
        cls.docstring.value, items = convert(cls.docstring.value, known)
        if items:
            self.tables[cls.path] = _entry_groups(items)
        documented = {name for group in self.tables.get(cls.path, ())
                      for name in _names(group[0])}
        for name in documented:
            member = cls.members.get(name)
            if member is not None and member.is_attribute and not member.docstring:
                member.public = False  # its row in the table documents it
        for member in cls.members.values():
            if (member.is_attribute and "instance-attribute" in member.labels
                    and not member.docstring and str(member.value) == member.name):
                member.public = False  # self.x = x: a parameter, in the signature
            if "dataclass" in cls.labels and _is_constant(member):
                member.public = False

    def on_package(self, *, pkg: griffe.Module, **kwargs) -> None:
        """Each dataclass's table gets the rows of the fields its bases' tables
        document and it does not (every base is converted by now)."""
        for path, groups in self.tables.items():
            cls = pkg.get_member(path.split(".", 1)[1]) if "." in path else None
            if cls is None or "dataclass" not in cls.labels:
                continue
            documented = {name for group in groups for name in _names(group[0])}
            inherited = []
            for base in cls.mro():
                for group in self.tables.get(base.path, ()):
                    names = _names(group[0])
                    if not documented & set(names):
                        inherited += group
                        documented |= set(names)
            if inherited:
                cls.docstring.value += "\n" + "\n".join(inherited)
