"""Console output: rich tables and progress bars (silent when not on a terminal)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

# Output must not change with the terminal: tables render at their natural width, never folded
# to COLUMNS (a narrow terminal soft-wraps them instead), so what is grepped stays on one line.
TABLE_WIDTH = 1000


def console(stderr: bool = False):
    """A rich console for tables (their width never depends on the terminal); lines go through :func:`say`."""
    from rich.console import Console

    # markup off: cells hold user paths, and rich would read '[/x]' in a file name as a closing tag
    return Console(stderr=stderr, highlight=False, width=TABLE_WIDTH, markup=False)


def progress_console():
    """The console of progress bars: unlike tables, as wide as the terminal, because a bar is redrawn
    in place and erased at the end (never grepped), and a bar wider than the terminal wraps onto a
    second row that each redraw leaves behind."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, markup=False)


def say(line: str, stderr: bool = False) -> None:
    """Print one message line plain: never wrapped or styled, whatever the terminal, because such
    lines (problems, errors, written files) are grepped and logged."""
    print(line, file=sys.stderr if stderr else sys.stdout, flush=True)


@contextlib.contextmanager
def progress_bar(label: str, total: int, quiet: bool = False) -> Iterator[Callable[[], None]]:
    """A rich progress bar on stderr (silent when ``quiet`` or stderr is not a terminal)."""
    if quiet or not sys.stderr.isatty():
        yield lambda: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn(label, markup=False), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=progress_console(), transient=True) as prog:
        task = prog.add_task(label, total=total)
        yield lambda: prog.advance(task)
