"""Run a lab (a jupytext percent ``.py``) cell by cell, as a notebook kernel would, and print
its outputs in the gate's text form.

The gate runs this file in the snippet sandbox, exactly like a snippet: one process, its own
scratch folder, offline.  Cells run in IPython's ``InteractiveShell``, the engine inside the
Jupyter kernel, so a cell's printed text and its last expression (``Out[n]``) are formatted
the way a reader's Jupyter shows them.  ``tests/site/test_labs.py`` proves that by running the
downloaded ``.ipynb`` in a real kernel and comparing.

Output form (``labs/<name>.out``), one section per output of a code cell, each followed by
one newline so the text stays exact (``parse_expected`` below reads it back)::

    ──── cell 3 · stdout ────
    printed text

    ──── cell 3 · result ────
    'the repr of the last expression'

A cell that displays a picture or raises fails the run: what a lab shows must be text the
gate can compare.  ``section`` writes that form and ``parse_expected`` reads it: the one
place the header is spelled (the site's notebook builder imports both).  As with snippets,
stderr (library warnings, such as the Hugging Face "offline mode" notice this machine prints
and a reader's does not) is not part of the verified output.
"""

from __future__ import annotations

import re
import sys

MARK = "────"
HEADER = re.compile(rf"^{MARK} cell (\d+) · (stdout|result) {MARK}\n", re.MULTILINE)


def code_cells(path: str) -> list[str]:
    """The code cells of a percent-format lab, in order."""
    import jupytext

    notebook = jupytext.read(path, fmt="py:percent")
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def section(number: int, kind: str, text: str) -> str:
    """One output: a header line, the exact text, then one separating newline."""
    return f"{MARK} cell {number} · {kind} {MARK}\n{text}\n"


def parse_expected(text: str) -> dict[int, list[tuple[str, str]]]:
    """``{cell number: [(kind, exact text), ...]}`` from a lab's ``.out``.

    >>> parse_expected("──── cell 2 · stdout ────\\nhi\\n\\n──── cell 2 · result ────\\n3\\n")
    {2: [('stdout', 'hi\\n'), ('result', '3')]}
    """
    parts = HEADER.split(text)
    if parts[0]:
        raise ValueError(f"text before the first cell header: {parts[0][:40]!r}")
    found: dict[int, list[tuple[str, str]]] = {}
    for number, kind, body in zip(parts[1::3], parts[2::3], parts[3::3], strict=True):
        found.setdefault(int(number), []).append((kind, body.removesuffix("\n")))
    return found


def make_shell():
    """An InteractiveShell whose ``Out[n]`` values are collected instead of printed."""
    from IPython.core.displayhook import DisplayHook
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets import Type

    class Collect(DisplayHook):
        results: list[str] = []

        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            Collect.results.append(format_dict["text/plain"])

    class LabShell(InteractiveShell):
        displayhook_class = Type(Collect)

    return LabShell.instance(), Collect.results


def run_cell(shell, results: list[str], number: int, source: str) -> str:
    """Run one cell; return its sections, or exit 1 naming the cell if it cannot be shown."""
    from IPython.utils.capture import capture_output

    results.clear()
    with capture_output() as captured:
        outcome = shell.run_cell(source, store_history=True)
    problem = (
        "raised" if not outcome.success
        else "displayed rich output (labs show text only)" if captured.outputs
        else "printed a line that is a section header of the lab's output (it would pass for another "
             "cell's output)" if any(HEADER.search(text + "\n") for text in (captured.stdout, *results))
        else ""
    )
    if problem:
        sys.stderr.write(f"cell {number} {problem}:\n{captured.stdout}{captured.stderr}")
        if outcome.error_in_exec or outcome.error_before_exec:
            shell.showtraceback()
        sys.exit(1)
    return (section(number, "stdout", captured.stdout) if captured.stdout else "") + "".join(
        section(number, "result", text) for text in results)


def main(path: str) -> None:
    shell, results = make_shell()
    sys.stdout.write("".join(run_cell(shell, results, number, source)
                             for number, source in enumerate(code_cells(path), start=1)))


if __name__ == "__main__":
    main(sys.argv[1])
