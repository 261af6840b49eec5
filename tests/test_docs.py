"""Generated documentation is current (`tipsim docs` would not change the committed files), and
user-facing text refers only to what a user has and shows commands that work in every shell."""

from __future__ import annotations

import re
from pathlib import Path

from sim import load_config
from sim.docs import write_docs

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_generated_docs_are_up_to_date(tmp_path):
    for path in write_docs(load_config(), tmp_path):
        committed = DOCS / path.name
        assert committed.exists(), f"docs/{path.name} is missing: run `tipsim docs`"
        assert committed.read_text() == path.read_text(), f"docs/{path.name} is stale: run `tipsim docs`"


def test_every_parameter_has_unit_range_and_source():
    from sim.params import iter_params

    cfg = load_config()
    for name, _, meta in iter_params(cfg.params):
        assert meta["unit"] and meta["doc"] and meta["source"], name
        lo, hi = meta["plausible"]
        assert lo <= hi, name


# --------------------------------------------------------------------------------------------
# User-facing text refers only to what a user has
# --------------------------------------------------------------------------------------------

ROOT = DOCS.parent
PRIVATE_REFERENCE = re.compile(r"\bDESIGN\b|\.\./shared|\b[Ii]ssues? #?\d+")
"""The project's design brief, its shared folder and its issue numbers: not in a user's checkout."""


def user_facing_files() -> list[Path]:
    """README, Makefile, pyproject, docs, experiments, configs and the package's sources and data (tests and .ci
    excluded)."""
    files = [ROOT / "README.md", ROOT / "Makefile", ROOT / "pyproject.toml", *DOCS.rglob("*.md")]
    for folder, patterns in (("experiments", ("*",)), ("configs", ("*.yaml",)), ("sim", ("*.py", "*.csv", "*.yaml"))):
        files += [p for pattern in patterns for p in (ROOT / folder).rglob(pattern) if p.is_file()]
    return sorted(p for p in set(files) if "__pycache__" not in p.parts)


def private_references(path: Path) -> list[str]:
    text = path.read_text(errors="replace")
    return [f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)!r}"
            for m in PRIVATE_REFERENCE.finditer(text)]


def test_no_references_to_files_or_issues_a_user_does_not_have():
    files = user_facing_files()
    assert ROOT / "README.md" in files and DOCS / "ODD.md" in files and ROOT / "sim" / "model.py" in files
    found = [ref for path in files for ref in private_references(path)]
    assert not found, "references a user cannot follow (say what is meant, or point into docs/):\n" + "\n".join(found)


def test_the_reference_check_catches_each_kind():
    for text in ("see DESIGN.md section 4", "(DESIGN section 6)", "copied from ../shared/data/targets.csv",
                 "tuned (issue 3)", "as in Issue #12", "issues 4 and 5"):
        assert PRIVATE_REFERENCE.search(f"line one\n{text}\n"), text
    assert not PRIVATE_REFERENCE.search("SWEEP_DESIGNS, sweep.design=lhs, a design point, the issue of cost, 3 issues")


def shell_commands(text: str) -> list[str]:
    """``tipsim ...`` command lines: in code blocks (with their continuation lines) and in inline code."""
    commands, block, current = [], False, ""
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            block = not block
            continue
        if block:
            stripped = line.strip()
            if current or stripped.startswith(("tipsim ", "make ", "python -m sim ")):
                current += " " + stripped.rstrip("\\")
                if not stripped.endswith("\\"):
                    commands.append(current.strip())
                    current = ""
    commands += re.findall(r"`(tipsim [^`]*)`", text)
    return commands


def unquoted_brackets(command: str) -> bool:
    """Whether a command has ``[`` outside quotes (zsh would read it as a file pattern)."""
    bare = re.sub(r"'[^']*'|\"[^\"]*\"", "", command.split(" #")[0])
    return "[" in bare


def test_commands_with_brackets_are_quoted_for_zsh():
    from sim.cli import COMMANDS

    assert unquoted_brackets("tipsim compare scenarios=[a,b]") and not unquoted_brackets("tipsim compare 'scenarios=[a,b]'")
    docs = [ROOT / "README.md", *DOCS.glob("*.md"), *(ROOT / "experiments").rglob("*.md")]
    commands = [(p.name, c) for p in docs for c in shell_commands(p.read_text())]
    commands += [("tipsim --help", c.example) for c in COMMANDS.values()]
    assert any("'scenarios=[" in c for _, c in commands)
    bad = [f"{where}: {c}" for where, c in commands if unquoted_brackets(c)]
    assert not bad, "quote values with [...] ('key=[a,b]'):\n" + "\n".join(bad)


def test_readme_lists_every_run_file_and_the_test_time():
    readme = (ROOT / "README.md").read_text()
    for name in ("daily.parquet", "routes.parquet", "config.yaml", "manifest.json", "people.parquet"):
        assert f"| `{name}` |" in readme, name
    assert re.search(r"make test.*about \d+ minutes on 2 cores", readme)
