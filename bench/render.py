"""docs/benchmarks.md from the results of bench/run.py (bench/out/results/benchmarks.json), through
the template bench/templates/benchmarks.md.j2."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

HERE = Path(__file__).parent


def _gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB" if n else "–"


def _environment() -> Environment:
    # Markdown, not HTML: nothing escaped. A block tag's line leaves nothing in the output, and the
    # template's last line feed is kept, so the file ends as the template does. StrictUndefined: a
    # result missing from the report stops the render instead of leaving a blank.
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=False, trim_blocks=True, lstrip_blocks=True,  # noqa: S701 - Markdown
        keep_trailing_newline=True, undefined=StrictUndefined,
    )
    env.filters.update(gib=_gib, thousands=lambda n: f"{n:,}", fixed=lambda x, digits: f"{x:.{digits}f}")
    return env


def markdown(report: dict) -> str:
    notes = HERE / "notes.md"  # the hand-written reading of the results: why a target is not met yet
    return _environment().get_template("benchmarks.md.j2").render(
        report=report, notes=notes.read_text(encoding="utf-8").strip() if notes.exists() else None
    )


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "out" / "results" / "benchmarks.json"
    print(markdown(json.loads(source.read_text(encoding="utf-8"))))
