"""Every committed output that comes from float maths prints the same bytes on a perturbed
float code path (``run/numerics.py``): none sits so close to a rounding boundary that
another CPU would print it differently."""

import pytest

from scripts import gate
from tests.conftest import REPO


@pytest.mark.slow  # every float target run again on another code path: minutes after an edit
def test_every_float_output_survives_another_code_path():
    outcomes = gate.margins(gate.Project.load(REPO))
    assert len(outcomes) >= 20
    assert all(o.ok for o in outcomes), "\n\n".join(o.detail for o in outcomes if not o.ok)
