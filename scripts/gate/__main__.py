"""``python -m scripts.gate check|update``: the command line the Make targets call."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scripts.gate import ROOT, Project, SeedError, SnippetError, check, margins, site_problems, summary, update
from scripts.gate.progress import Progress
from scripts.gate.report import visible

# What each mode does, and how it is called with the parsed arguments.
MODES = {
    "check": ("compare each output with its committed one (cached)",
              lambda a, progress: check(a.project, a.only, not a.no_cache, a.jobs, progress)),
    "update": ("rewrite expected outputs from real runs",
               lambda a, progress: update(a.project, a.only, a.jobs, progress)),
    "margins": ("check, then run each float-maths target on a perturbed float code path: same bytes?",
                lambda a, progress: margins(a.project, a.only, not a.no_cache, a.jobs, progress)),
}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m scripts.gate",
                                     description="Run snippets and labs; compare with (or update) their outputs.")
    parser.add_argument("mode", choices=list(MODES), help="; ".join(f"{m}: {what}" for m, (what, _) in MODES.items()))
    parser.add_argument("snippets", nargs="*", type=Path, help="only these snippets or labs (default: all)")
    parser.add_argument("--no-cache", action="store_true", help="run every snippet, trust no cached pass")
    parser.add_argument("--jobs", type=int, default=None, help="parallel runs (default: CPU count)")
    parser.add_argument("--root", type=Path, default=ROOT, help="project folder (default: this checkout)")
    args = parser.parse_args(argv)
    args.only = [p.resolve() for p in args.snippets] or None
    return args


def chosen(args: argparse.Namespace) -> Project:
    """The project, loaded once; a path that is no snippet or lab is an error naming it."""
    project = Project.load(args.root)
    known = {t.path for t in project.runnable}
    if args.only and (wrong := [str(p) for p in args.only if p not in known]):
        raise SnippetError(f"not a snippet under {project.root / 'snippets'} or a lab under "
                           f"{project.root / 'labs'}: {', '.join(wrong)}")
    return project


def main(argv: list[str] | None = None) -> int:
    """Exit 0 if everything passed, 1 on any failure, 2 if the gate could not run at all."""
    args = parse(argv)
    try:
        args.project = chosen(args)
        total = len(args.only or (args.project.runnable if args.mode == "update" else args.project.targets))
        with Progress(total) as progress:
            outcomes = MODES[args.mode][1](args, progress)
    except (SnippetError, SeedError) as err:
        print(f"error: {visible(str(err))}", file=sys.stderr)
        return 2
    problems = site_problems(args.project) if args.mode != "update" and not args.only else []
    print("\n".join([summary(outcomes), *map(visible, problems)]))
    return 0 if all(o.ok for o in outcomes) and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
