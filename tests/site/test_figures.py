"""Figures are drawn from the verified output, in both themes, and every page uses them well."""

import re

from scripts.gate import settings
from scripts.site import figures, memo
from tests.conftest import REPO

OUT = (REPO / figures.EMBEDDINGS).read_text(encoding="utf-8")
HEADS = (REPO / figures.TRANSFORMER).read_text(encoding="utf-8")


def test_the_heatmap_data_is_the_verified_matrix():
    matrix = figures.parse_matrix(OUT)
    assert len(matrix) == 5 and all(len(row) == 5 for row in matrix)
    assert all(matrix[i][i] == 1.0 for i in range(5))
    assert matrix[0][1] == matrix[1][0]
    printed = OUT.split("most similar (")[1].split(")")[0]
    assert max(v for i, row in enumerate(matrix) for j, v in enumerate(row) if i != j) == float(printed)


def test_the_map_data_is_the_verified_projection():
    points = figures.parse_points(OUT)
    labels = figures.parse_labels(OUT)
    assert [p[0] for p in points] == list(labels) == ["S0", "S1", "S2", "S3", "S4"]
    assert labels["S0"] == "The cat sits on the mat."


def test_the_attention_maps_are_the_verified_weights():
    heads = figures.parse_heads(HEADS)
    assert [title for title, _, _ in heads] == ["layer 1, head 2", "layer 13, head 8", "layer 16, head 3"]
    for _, words, rows in heads:
        assert words[:2] == ["The", "cat"] and len(rows) == len(words) == 10
        assert all(abs(sum(row) - 1) < 0.06 for row in rows)  # each row a distribution, rounded to 2 places
        assert all(v == 0 for i, row in enumerate(rows) for v in row[i + 1:])  # causal: nothing later


def test_build_draws_every_figure_in_both_themes_and_caches_them(project, monkeypatch):
    (project.root / "snippets" / "embedding_similarity.out").write_text(OUT)
    (project.root / "snippets" / "transformer_numpy.out").write_text(HEADS)
    built = figures.build(project.root)
    assert sorted(built) == sorted(f"{n}-{t}.svg" for n in figures.FIGURES for t in figures.THEMES)
    assert all(svg.lstrip().startswith(b"<?xml") and b"<svg" in svg for svg in built.values())
    assert built["similarity-heatmap-light.svg"] != built["similarity-heatmap-dark.svg"]
    monkeypatch.setattr(figures, "render", lambda *a: (_ for _ in ()).throw(AssertionError("redrawn")))
    assert figures.build(project.root) == built


def test_a_changed_output_redraws_the_figures(project):
    source = project.root / "snippets" / "embedding_similarity.out"
    source.write_text(OUT)
    before = figures.build(project.root)
    source.write_text(OUT.replace("0.64", "0.65"))
    assert figures.build(project.root)["similarity-heatmap-light.svg"] != before["similarity-heatmap-light.svg"]


def test_prune_removes_the_figures_the_last_build_did_not_use(project, monkeypatch):
    monkeypatch.setattr(memo, "_used", {})  # a prune here must not touch other caches
    source = project.root / "snippets" / "embedding_similarity.out"
    source.write_text(OUT)
    figures.build(project.root)
    memo.prune()
    source.write_text(OUT.replace("0.64", "0.65"))  # the output changed
    after = figures.build(project.root)
    memo.prune()
    [kept] = (settings.cache_root(project.root) / "figures").iterdir()
    assert {path.name: path.read_bytes() for path in kept.iterdir()} == after


def test_every_figure_is_on_a_page_in_both_themes_with_alt_text():
    pages = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "docs").rglob("*.md"))
    for name in figures.FIGURES:
        for theme in figures.THEMES:
            images = re.findall(rf"!\[([^\]]*)\]\([^)]*{name}-{theme}\.svg#only-{theme}\)", pages)
            assert images, f"{name}-{theme}.svg is not shown with #only-{theme}"
            assert all(len(alt) > 60 for alt in images), f"{name}: alt text should describe the figure"


def test_every_figure_has_its_intrinsic_size_and_loads_lazily(built_site):
    """Sized: no layout shift. Lazy: the scheme a reader does not see is never downloaded."""
    import re

    tags = [tag for page in built_site.rglob("*.html")
            for tag in re.findall(r'<img [^>]*assets/figures/[^>]*>', page.read_text(encoding="utf-8"))]
    assert len(tags) >= 6
    for tag in tags:
        assert re.search(r'width="\d+"', tag) and re.search(r'height="\d+"', tag), tag
        assert 'loading="lazy"' in tag, tag


def test_the_architectures_diagram_is_readable_at_a_phones_column_and_every_label_fits_its_box():
    """Shown at the column's width (about 358 CSS px on a 390 px phone, 690 on a desktop), the
    diagram is scaled by column / its width in points: its smallest label must stay legible."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch
    from matplotlib.text import Text

    draw, size, glyph_paths, _ = figures.FIGURES["four-architectures"]
    width, _ = figures.intrinsic_size(figures.render(draw, size, OUT, figures.THEMES["light"], glyph_paths))
    fig = Figure(figsize=size, dpi=72)
    renderer = FigureCanvasAgg(fig).get_renderer()
    draw(fig, OUT, figures.THEMES["light"])
    texts = [t for t in fig.findobj(Text) if t.get_text()]
    smallest = min(t.get_fontsize() for t in texts)
    assert smallest * 358 / width >= 8.5, f"labels {smallest} pt in a {width:.0f} pt wide diagram: too small on a phone"
    boxes = [p.get_window_extent(renderer) for p in fig.findobj(FancyBboxPatch)]
    steps = [t for t in texts if t.get_horizontalalignment() == "center"]
    assert len(steps) == sum(len(s) for _, s, _ in figures.ARCHITECTURES) == len(boxes)
    for text in steps:
        inside = text.get_window_extent(renderer).expanded(1, 1).padded(2)  # 2 pt clear of the edge
        assert any(box.contains(inside.x0, inside.y0) and box.contains(inside.x1, inside.y1) for box in boxes), \
            f"{text.get_text()!r} does not fit its box"
