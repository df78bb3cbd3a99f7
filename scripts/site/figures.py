"""Figures drawn at build time, from verified outputs, in a light and a dark variant.

Each chart is parsed from a verified output — the same checked file its page shows as text:
the heatmap and the 2-D map from ``snippets/embedding_similarity.out``, the attention maps from
``snippets/transformer_numpy.out`` — so a picture can never disagree with the numbers beside it.
The four-architectures diagram is drawn from the small description in ``ARCHITECTURES``,
which keeps the site free of any third-party diagram script.  Results
are cached on their inputs, so a warm build does not even import matplotlib.
"""

from __future__ import annotations

import io
import re
from importlib import metadata
from pathlib import Path
from typing import NamedTuple

from scripts.gate import Project
from scripts.site import memo

THEMES = {
    "light": {"fg": "#1f2328", "muted": "#57606a", "box": "#e8eaf6", "edge": "#3f51b5", "cmap": "Blues"},
    "dark": {"fg": "#e6edf3", "muted": "#9da7b3", "box": "#283046", "edge": "#8c9eff", "cmap": "viridis"},
}
ARCHITECTURES = [
    ("1  Pure prompt", ["Question", "LLM", "Answer"], "weights unchanged"),
    ("2  Agent + function calling", ["Question", "LLM asks\nfor a tool", "App runs\nthe function", "LLM", "Answer"],
     "weights unchanged"),
    ("3  RAG", ["Question", "Embed", "Vector DB:\ntop-k notes", "LLM reads\nnotes +\nquestion", "Answer"],
     "weights unchanged"),
    ("4  Fine-tuning", ["Domain data", "Train further", "Fine-tuned LLM", "Answer"], "weights CHANGED"),
]
# The diagram is drawn in points at the size it is shown: about 450 pt wide (a phone's column is
# about 360 CSS px, a desktop's 690), so its 11 pt labels show at about 9 px on a phone and
# 17 px on a desktop, not scaled down to a few pixels from a wide canvas.
ARCHITECTURE_FONTS = {"title": 12.5, "note": 11, "step": 11}


def parse_labels(text: str) -> dict[str, str]:
    """``S0 The cat sits on the mat.`` lines at the top of the output."""
    return dict(re.findall(r"^(S\d) (\D.*)$", text.split("\n\n")[0], flags=re.M))


def parse_matrix(text: str) -> list[list[float]]:
    block = text.split("cosine similarity")[1].split("\n\n")[0]
    return [[float(v) for v in line.split()[1:]] for line in block.splitlines()[2:]]


def parse_points(text: str) -> list[tuple[str, float, float]]:
    block = text.split("2-D projection")[1]
    return [(label, float(x), float(y)) for label, x, y in re.findall(r"^(S\d)\s+(\S+)\s+(\S+)$", block, re.M)]


def style(ax, theme: dict) -> None:
    ax.tick_params(colors=theme["fg"])
    for spine in ax.spines.values():
        spine.set_color(theme["muted"])


def heatmap(fig, text: str, theme: dict) -> None:
    matrix, labels = parse_matrix(text), list(parse_labels(text))
    ax = fig.add_subplot()
    image = ax.imshow(matrix, cmap=theme["cmap"], vmin=-0.2, vmax=1)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center",
                    color="white" if (value > 0.5) == (theme["cmap"] == "Blues") else "black")
    ax.set_title("Cosine similarity of the five sentences", color=theme["fg"])
    colorbar = fig.colorbar(image, ax=ax)
    colorbar.ax.tick_params(colors=theme["fg"])
    style(ax, theme)


def scatter(fig, text: str, theme: dict) -> None:
    labels, points = parse_labels(text), parse_points(text)
    ax = fig.add_subplot(facecolor="none")
    ax.scatter([x for _, x, _ in points], [y for _, _, y in points], s=60, color=theme["edge"])
    for label, x, y in points:
        crowded = any(0 < y2 - y < 0.2 and abs(x2 - x) < 0.4 for _, x2, y2 in points)
        ax.annotate(f"{label} {labels[label]}", (x, y), textcoords="offset points",
                    xytext=(0, -16 if crowded else 9), ha="center", fontsize=9, color=theme["fg"])
    ax.set_xlim(-1.1, 1.1)
    ax.set_ylim(-0.9, 0.9)
    ax.set_xlabel("first principal component", color=theme["fg"])
    ax.set_ylabel("second principal component", color=theme["fg"])
    ax.set_title("The sentences on a 2-D map (PCA of 384-D embeddings)", color=theme["fg"])
    style(ax, theme)


def parse_heads(text: str) -> list[tuple[str, list[str], list[list[float]]]]:
    """``layer 1, head 2`` blocks: (title, the words, the weight rows)."""
    heads = []
    for block in re.findall(r"^(layer \d+, head \d+)\n(.+?)(?:\n\n|\Z)", text, flags=re.M | re.S):
        title, (header, *rows) = block[0], block[1].splitlines()
        heads.append((title, header.split(), [[float(v) for v in row.split()[1:]] for row in rows]))
    return heads


def attention_maps(fig, text: str, theme: dict) -> None:
    """One panel per printed head, side by side, darker where a token (row) looks more."""
    heads = parse_heads(text)
    axes = []
    for n, (title, words, rows) in enumerate(heads):
        ax = fig.add_subplot(1, len(heads), n + 1)
        axes.append(ax)
        image = ax.imshow(rows, cmap=theme["cmap"], vmin=0, vmax=1)
        ax.set_xticks(range(len(words)), words, rotation=90)
        ax.set_yticks(range(len(words)), words if n == 0 else [])
        ax.set_title(title, color=theme["fg"])
        style(ax, theme)
    fig.supxlabel("looked at", color=theme["fg"])
    fig.supylabel("looking", color=theme["fg"])
    colorbar = fig.colorbar(image, ax=axes, shrink=0.8, label="attention weight")
    colorbar.ax.tick_params(colors=theme["fg"])
    colorbar.ax.yaxis.label.set_color(theme["fg"])


def architectures(fig, text: str, theme: dict) -> None:
    """One row per architecture: its title and what happens to the weights above a chain of
    boxes, as wide as the row allows.  Axis units are points, the unit of font sizes."""
    from matplotlib.patches import FancyBboxPatch

    width, height = (float(inches) * 72 for inches in fig.get_size_inches())
    fonts, gap, box_height, round_pad = ARCHITECTURE_FONTS, 14.0, 48.0, 3.0
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    row_height = height / len(ARCHITECTURES)
    for row, (title, steps, note) in enumerate(ARCHITECTURES):
        top = height - row * row_height
        ax.text(0, top - 9, title, fontsize=fonts["title"], fontweight="bold", color=theme["fg"], va="center")
        ax.text(width, top - 9, note, fontsize=fonts["note"], color=theme["muted"], ha="right", va="center",
                fontweight="bold" if "CHANGED" in note else "normal")
        box_width = (width - gap * (len(steps) - 1)) / len(steps)
        y = top - 24 - box_height / 2
        for i, step in enumerate(steps):
            x = i * (box_width + gap)
            ax.add_patch(FancyBboxPatch((x + round_pad, y - box_height / 2 + round_pad), box_width - 2 * round_pad,
                                        box_height - 2 * round_pad, boxstyle=f"round,pad={round_pad}",
                                        facecolor=theme["box"], edgecolor=theme["edge"]))
            ax.text(x + box_width / 2, y, step, ha="center", va="center", fontsize=fonts["step"], color=theme["fg"],
                    linespacing=1.15)
            if i:
                ax.annotate("", (x - 1, y), (x - gap + 1, y),
                            arrowprops={"arrowstyle": "->", "color": theme["edge"], "lw": 1.5, "shrinkA": 0,
                                        "shrinkB": 0})


class Figure(NamedTuple):
    draw: object  # draw(fig, text of source, theme)
    size: tuple[float, float]  # inches
    glyph_paths: bool  # text as glyph paths (exact fit) or as text
    source: str  # the verified output it is drawn from


EMBEDDINGS, TRANSFORMER = "snippets/embedding_similarity.out", "snippets/transformer_numpy.out"
# Charts keep their text as text (a quarter of the bytes; the reader's sans-serif font,
# selectable); the diagram draws glyphs as paths, so every label fits its box exactly.
FIGURES = {
    "similarity-heatmap": Figure(heatmap, (6.4, 5.0), False, EMBEDDINGS),
    "embedding-map": Figure(scatter, (7.6, 5.2), False, EMBEDDINGS),
    "four-architectures": Figure(architectures, (6.0, 4.9), True, EMBEDDINGS),
    "attention-maps": Figure(attention_maps, (9.0, 3.8), False, TRANSFORMER),
}


def render(draw, size, text: str, theme: dict, glyph_paths: bool = True) -> bytes:
    """One SVG, byte-stable for the same input: no date, fixed ids; glyphs as paths, or text
    in the reader's sans-serif font."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    matplotlib.rcParams.update({"svg.hashsalt": "study-llm", "svg.fonttype": "path" if glyph_paths else "none",
                                "font.family": ["sans-serif"]})
    fig = Figure(figsize=size, facecolor="none")
    draw(fig, text, theme)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight", transparent=True)
    return buffer.getvalue()


def sources(project: Project) -> dict[str, str]:
    """The text of each figure source the project has (a throwaway test project may have none)."""
    paths = sorted({figure.source for figure in FIGURES.values()})
    return {rel: (project.root / rel).read_text(encoding="utf-8") for rel in paths if (project.root / rel).exists()}


def build(where: Project | Path) -> dict[str, bytes]:
    """``{"similarity-heatmap-light.svg": b"<svg ...", ...}``, drawn or taken from the cache:
    every figure whose source output exists."""
    project = Project.of(where)
    texts = sources(project)
    inputs = [*(f"{rel}\n{text}" for rel, text in texts.items()),
              memo.source_of(__file__), metadata.version("matplotlib")]
    folder = memo.files(project.cache, "figures", inputs, lambda: draw_all(texts))
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def draw_all(texts: dict[str, str]) -> dict[str, bytes]:
    """Every figure with a source, in every theme: ``{"<figure>-<theme>.svg": svg}``."""
    return {f"{name}-{variant}.svg": render(f.draw, f.size, texts[f.source], theme, f.glyph_paths)
            for name, f in FIGURES.items() if f.source in texts for variant, theme in THEMES.items()}


def add_to_site(files, config, project: Project) -> None:
    """Put the figures into MkDocs' file collection as ``assets/figures/<name>``.

    A project without a figure's source output (a throwaway test project) gets no such figure;
    on the real site a page that links to a missing figure fails strict link validation instead.
    """
    from mkdocs.structure.files import File

    for name, content in build(project).items():
        files.append(File.generated(config, f"assets/figures/{name}", content=content))


IMG = re.compile(r'<img [^>]*src="[^"]*assets/figures/([\w-]+\.svg)(?:#only-(?:light|dark))?"[^>]*>')


def intrinsic_size(svg: bytes) -> tuple[float, float]:
    """Width and height of an SVG's viewBox (matplotlib writes one on every figure)."""
    _, _, width, height = map(float, re.search(rb'viewBox="([^"]+)"', svg).group(1).split())
    return width, height


def size_and_defer(html: str, project: Project) -> str:
    """Give every figure ``<img>`` its intrinsic size (no layout shift while it loads) and
    ``loading="lazy"``: the browser then never fetches the variant its colour scheme hides
    (``display: none``), so a reader downloads one scheme's figures, not both."""
    if "assets/figures/" not in html:
        return html
    svgs = build(project)

    def fix(match: re.Match) -> str:
        tag, (width, height) = match.group(0), intrinsic_size(svgs[match.group(1)])
        shown = re.search(r'width="(\d+)"', tag)
        extra = ([] if shown else [f'width="{round(width)}"']) + [
            f'height="{round(height * (int(shown.group(1)) if shown else width) / width)}"',
            'loading="lazy"', 'decoding="async"']
        return tag[:-1].rstrip("/ ") + " " + " ".join(extra) + ">"

    return IMG.sub(fix, html)
