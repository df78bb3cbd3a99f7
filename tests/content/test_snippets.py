"""One test per target: a snippet's or a lab's output today equals its committed expected
output, and a page's ``>>>`` sessions still print what they show.  Every one runs through
the gate's sandbox (pytest itself never runs a page's session nor imports a file of docs/)."""

import pytest

from scripts import gate
from tests.conftest import REPO

PROJECT = gate.Project.load(REPO)
TARGETS = PROJECT.targets


def test_there_are_snippets_and_pages_with_sessions():
    kinds = [target.kind for target in TARGETS]
    assert kinds.count(gate.Kind.SNIPPET) >= 3 and gate.Kind.PAGE in kinds


@pytest.mark.parametrize("target", TARGETS, ids=[t.rel for t in TARGETS])
def test_output_matches_expected(target):
    [outcome] = gate.check(PROJECT, [target])
    assert outcome.ok, outcome.detail
    assert outcome.status in {"passed", "cached"}
