"""One test per snippet: its output today equals its committed expected output."""

import pytest

from scripts import gate
from tests.conftest import REPO

PROJECT = gate.Project.load(REPO)
SNIPPETS = PROJECT.runnable


def test_there_are_snippets():
    assert len(SNIPPETS) >= 3


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[s.rel for s in SNIPPETS])
def test_snippet_output_matches_expected(snippet):
    [outcome] = gate.check(PROJECT, [snippet])
    assert outcome.ok, outcome.detail
    assert outcome.status in {"passed", "cached"}
