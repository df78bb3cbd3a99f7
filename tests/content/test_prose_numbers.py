"""A number the prose quotes beside an output is a number that output prints."""

import textwrap

from scripts.site import labs, prose_numbers
from tests.conftest import REPO


def site_problems(root):
    found = []
    for page in sorted((root / "docs").rglob("*.md")):
        found += prose_numbers.unprinted(page.relative_to(root).as_posix(), prose_numbers.page_regions(root, page))
    for lab in labs.discover(root):
        found += prose_numbers.unprinted(lab.relative_to(root).as_posix(),
                                         prose_numbers.lab_regions(lab, labs.expected_of(lab)))
    return found


def test_every_number_beside_an_output_is_printed_by_it():
    problems = site_problems(REPO)
    assert not problems, "\n".join(map(str, problems))


def test_a_rerecorded_output_that_contradicts_its_prose_is_named_with_page_and_line(tmp_path):
    (tmp_path / "snippets").mkdir()
    (tmp_path / "docs").mkdir()
    (tmp_path / "snippets" / "rate.py").write_text("print('right 5/8; 452 kept; 0.773')\n")
    (tmp_path / "snippets" / "rate.out").write_text("right 5/8; 452 kept; 0.773\n")
    (tmp_path / "docs" / "rate.md").write_text(textwrap.dedent("""\
        # Rate

        ```python
        --8<-- "snippets/rate.py"
        ```

        ```text
        --8<-- "snippets/rate.out"
        ```

        It gets 6/8 right (75%), keeps 452 tokens and puts 0.773 on the top one.
        Llama 3.1 8B, as of 2026-11, is a "6 of 9" note ([source](https://example.com/7)).

        ## Try it yourself

        It gets 9/9 here, which is not checked.
        """))
    problems = site_problems(tmp_path)
    assert [(p.where, p.line, p.number) for p in problems] == [("docs/rate.md", 11, "6/8"), ("docs/rate.md", 11, "75%")]
    assert "docs/rate.md:11: '6/8' is not in the output beside it" in str(problems[0])


def test_prose_between_two_examples_may_quote_either():
    page = REPO / "docs" / "llms" / "next-token.md"
    regions = prose_numbers.page_regions(REPO, page)
    assert any("452" in printed and any("452" in text for _, text in prose) for printed, prose in regions)
