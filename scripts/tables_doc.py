"""Render docs/tables.md from the code that defines the SQL surface, so the page cannot drift from it.

    .venv/bin/python scripts/tables_doc.py            # rewrite docs/tables.md
    .venv/bin/python scripts/tables_doc.py --check    # exit 1 when docs/tables.md is not what this renders

Tables come from `warehouse/schema.py`: `TABLES` gives each table's schema and upsert key; the live Arrow
schema gives the columns and their types (shared column groups such as the provenance columns included);
the source text gives the comment written on each column's line and the comment block above each schema.
Views come from `warehouse/views.py`: the comment above each entry of `VIEWS`, and the columns DuckDB
reports when the view runs over an empty lakehouse (`warehouse/sql.py` connect on an empty temporary
folder: every table not written yet reads as an empty table with its schema).
"""
from __future__ import annotations

import argparse
import ast
import io
import re
import sys
import tempfile
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_PY = ROOT / "warehouse" / "schema.py"
VIEWS_PY = ROOT / "warehouse" / "views.py"
OUTPUT = ROOT / "docs" / "tables.md"
COMMAND = ".venv/bin/python scripts/tables_doc.py"


# -- reading the source --------------------------------------------------------------------------------------
def _comments(source: str) -> dict[int, str]:
    """Line number -> the text of the comment on that line (without '#')."""
    out = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            out[tok.start[0]] = tok.string.lstrip("#").strip()
    return out


def _block_above(lines: list[str], lineno: int) -> str:
    """The run of whole-line comments directly above line `lineno` (1-based), joined."""
    block = []
    i = lineno - 2
    while i >= 0 and lines[i].strip().startswith("#"):
        block.insert(0, lines[i].strip().lstrip("#").strip())
        i -= 1
    return " ".join(block)


def _assigned(node: ast.stmt) -> str | None:
    """The name a module-level `NAME = ...` (or `NAME: type = ...`) statement assigns, else None."""
    target = node.targets[0] if isinstance(node, ast.Assign) else node.target if isinstance(node, ast.AnnAssign) else None
    return target.id if isinstance(target, ast.Name) and node.value is not None else None


def _column_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Tuple) and node.elts and isinstance(node.elts[0], ast.Constant):
        return node.elts[0].value
    return None


def _line_comment(comments: dict[int, str], node: ast.AST) -> str:
    return comments.get(node.end_lineno, "") or comments.get(node.lineno, "")


def read_schema_source(path: Path = SCHEMA_PY) -> dict:
    """What the source says beyond the Arrow types: for every module-level constant that lists columns,
    {"columns": {name: comment}, "spreads": [(constant, comment)], "above": comment block, "inline": comment
    on the assignment line}; and "TABLES": {table: constant name}."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    comments = _comments(source)
    tree = ast.parse(source)
    constants: dict[str, dict] = {}
    tables: dict[str, str] = {}
    for node in tree.body:
        name = _assigned(node)
        if name is None:
            continue
        value = node.value
        if name == "TABLES" and isinstance(value, ast.Dict):
            for key, item in zip(value.keys, value.values):
                if isinstance(key, ast.Constant) and isinstance(item, ast.Tuple) and isinstance(item.elts[0], ast.Name):
                    tables[key.value] = item.elts[0].id
            continue
        if isinstance(value, ast.Call) and value.args and isinstance(value.args[0], (ast.List, ast.Tuple)):
            elements = value.args[0].elts           # pa.schema([...]) / pa.struct([...])
        elif isinstance(value, (ast.List, ast.Tuple)):
            elements = value.elts                   # a list of (name, type) shared by several schemas
        elif isinstance(value, ast.Dict):
            elements = None                         # {name: type}
        else:
            continue
        entry = {"columns": {}, "spreads": [], "above": _block_above(lines, node.lineno),
                 "inline": comments.get(node.lineno, "")}
        if elements is None:
            for key, item in zip(value.keys, value.values):
                if isinstance(key, ast.Constant):
                    entry["columns"][key.value] = comments.get(key.lineno, "")
        else:
            for element in elements:
                column = _column_name(element)
                if column is not None:        # a comment block above a column (inside the list) leads its own
                    notes = [_block_above(lines, element.lineno), _line_comment(comments, element)]
                    entry["columns"][column] = "; ".join(n for n in notes if n)
                elif isinstance(element, ast.Starred):
                    spread = element.value
                    if isinstance(spread, ast.Call) and isinstance(spread.func, ast.Attribute):
                        spread = spread.func.value          # *SHARED.items()
                    if isinstance(spread, ast.Name):
                        entry["spreads"].append((spread.id, _line_comment(comments, element)))
        if entry["columns"] or entry["spreads"]:
            constants[name] = entry
    return {"constants": constants, "TABLES": tables}


def column_comments(constant: str, constants: dict) -> tuple[dict[str, str], dict[str, str]]:
    """(column -> comment, column -> the shared constant it comes from) for a schema constant, spreads
    resolved. A comment on a spread line of the form `column: text` refines that column's comment."""
    entry = constants[constant]
    out, origin = dict(entry["columns"]), {}
    for spread, comment in entry["spreads"]:
        if spread not in constants:
            continue
        shared, _ = column_comments(spread, constants)
        for column, text in shared.items():
            out.setdefault(column, text)
            origin[column] = spread
        match = re.match(r"(\w+): (.+)", comment)
        if match and match.group(1) in shared:
            out[match.group(1)] = match.group(2)
    return out, origin


def read_views_source(path: Path = VIEWS_PY) -> dict[str, str]:
    """View name -> the comment block written above its entry in VIEWS."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    for node in ast.parse(source).body:
        if _assigned(node) == "VIEWS" and isinstance(node.value, ast.Dict):
            return {key.value: _block_above(lines, key.lineno) for key in node.value.keys
                    if isinstance(key, ast.Constant)}
    return {}


def view_columns() -> dict[str, list[tuple[str, str]]]:
    """View name -> [(column, DuckDB type)], from running each view over an empty lakehouse."""
    from speechcraft.warehouse.sql import connect
    from speechcraft.warehouse.views import VIEWS

    with tempfile.TemporaryDirectory(prefix="speechcraft-tables-doc-") as empty:
        con = connect(empty)
        try:
            return {name: [(row[0], row[1]) for row in con.execute(f"DESCRIBE {name}").fetchall()]
                    for name in VIEWS}
        finally:
            con.close()


# -- rendering -----------------------------------------------------------------------------------------------
def _cell(text: str) -> str:
    """Text for a table cell: pipes escaped, and outside `code` spans angle brackets too (else Markdown
    would read "<corpus>/<native_id>" as HTML tags and show nothing)."""
    parts = text.replace("|", "\\|").replace("\n", " ").split("`")
    return "`".join(part.replace("<", "&lt;").replace(">", "&gt;") if i % 2 == 0 else part
                    for i, part in enumerate(parts))


def _type(arrow_type) -> str:
    return f"`{arrow_type}`"


def render() -> str:
    from speechcraft.tasks.corpora import READERS
    from speechcraft.tasks import attributes  # noqa: F401 (the built-in attribute stages declare their tables)
    from speechcraft.tasks.ingest import clip_schema
    from speechcraft.warehouse.schema import TABLES
    from speechcraft.warehouse.views import VIEWS

    clip_schema()                                       # the readers' own clips columns
    declared_by = {column: name for name, reader in READERS.items() for column in reader.extra_columns}

    source = read_schema_source()
    constants, table_constants = source["constants"], source["TABLES"]
    out = [
        "# Tables and views (the SQL surface)",
        "",
        f"<!-- Generated by `{COMMAND}` from warehouse/schema.py and warehouse/views.py. Do not edit by hand: "
        "change the code (the comment on a column's line is its description here), then run the command. "
        "tests/test_docs.py fails when this page is stale. -->",
        "",
        "Every table is a Lance dataset in the lakehouse, upserted on its key (a re-run replaces a row, never "
        "duplicates it). `speechcraft sql` (and the dashboard, and `speechcraft.warehouse.sql.query` from "
        "Python) reads them read-only through DuckDB, together with the views below. A table that has not "
        "been written yet reads as an empty table with its schema, so every table and view answers from the "
        "first ingest on. How each command uses them: [the tour](../README.md), [annotation](annotation.md), "
        "[quality and exports](quality-and-exports.md).",
        "",
        "Tables: " + ", ".join(f"[`{name}`](#{name})" for name in TABLES) + ".",
        "",
        "Views: " + ", ".join(f"[`{name}`](#{name})" for name in VIEWS) + ".",
        "",
        "Columns marked *provenance* are shared by every stage table (`STAGE_COLUMNS` in "
        "`warehouse/schema.py`): "
        + _cell(constants.get("STAGE_COLUMNS", {}).get("above", "")),
        "",
        "## Tables",
        "",
    ]
    for name, (schema, key) in TABLES.items():
        constant = table_constants.get(name)
        comments, origin = column_comments(constant, constants) if constant in constants else ({}, {})
        entry = constants.get(constant, {})
        out += [f"### {name}", ""]
        about = " ".join(t for t in (entry.get("above", ""), entry.get("inline", "")) if t)
        if about:
            out += [_cell(about), ""]
        for spread, _ in entry.get("spreads", []):      # a shared column group's own note (the provenance
            note = constants.get(spread, {}).get("above")  # columns are described once, above)
            if note and spread != "STAGE_COLUMNS":
                out += [f"`{spread}`: {_cell(note)}", ""]
        out += [f"Key: `{key}` · schema `{constant}` in `warehouse/schema.py`", "",
                "| column | type | description |", "|---|---|---|"]
        for field in schema:
            comment = comments.get(field.name, "")
            if origin.get(field.name) == "STAGE_COLUMNS":
                comment = "*provenance*" + (f": {comment}" if comment else "")
            elif name == "clips" and field.name in declared_by:
                comment = f"the `{declared_by[field.name]}` reader's own field (its `extra_columns`)"
            out.append(f"| `{field.name}` | {_type(field.type)} | {_cell(comment)} |")
        out.append("")
    view_notes = read_views_source()
    columns = view_columns()
    out += ["## Views", ""]
    for name in VIEWS:
        out += [f"### {name}", ""]
        if view_notes.get(name):
            out += [_cell(view_notes[name]), ""]
        out += ["| column | type |", "|---|---|"]
        out += [f"| `{column}` | `{kind}` |" for column, kind in columns.get(name, [])]
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render docs/tables.md from warehouse/schema.py and views.py")
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/tables.md differs; write nothing")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT.relative_to(ROOT)} is stale: run {COMMAND}", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
