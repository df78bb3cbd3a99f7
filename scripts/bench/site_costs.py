"""What the site costs: a warm ``mkdocs build`` with the gate's hook against the same pages
built without it, what a warm build executes (notebook kernels, gate runs), Lighthouse on
every page, and the tokenizer widget in Chromium."""

from __future__ import annotations

import os
import statistics
import tempfile
from collections.abc import Iterator
from pathlib import Path

from scripts import gate
from scripts.bench import REPEATS, timed
from scripts.bench.gate_costs import GATE_RUNS, lab_environment
from scripts.harness import builder, lighthouse
from scripts.harness.static_server import serving
from scripts.harness.tokenizer_cases import sample_text
from scripts.site import figures, labs, playground_data, tokenizer_data

ROOT = gate.ROOT
WIDGET_JS = """async (text) => {
  const widget = document.querySelector('.tokenizer-widget');
  widget.scrollIntoView();
  const encoder = await window.studyLLMTokenizer.load();
  const [start] = performance.getEntriesByName('tokenizer-load-start');
  const [ready] = performance.getEntriesByName('tokenizer-ready');
  const [data] = performance.getEntriesByType('resource').filter(r => r.name.includes('cl100k_base'));
  const time = (f) => { const t0 = performance.now(); f(); return performance.now() - t0; };
  const first = time(() => encoder.encode(text));
  const again = [1, 2, 3, 4, 5].map(() => time(() => encoder.encode(text))).sort((a, b) => a - b)[2];
  return {bytes: data.transferSize, ready: ready.startTime - start.startTime, first, again,
          tokens: encoder.encode(text).length};
}"""


def build_seconds(config: Path, site: Path) -> float:
    """Median wall time of ``mkdocs build`` with one config, after one warm-up build."""
    runs = []
    for _ in range(REPEATS + 1):
        seconds, result = timed(lambda: builder.build(config.parent, site, "-f", str(config)))
        if result.returncode != 0:
            raise RuntimeError(f"mkdocs build -f {config.name} failed:\n{result.stderr[-2000:]}")
        runs.append(seconds)
    return statistics.median(runs[1:])


def without_hook(dest: Path, bare: bool) -> Path:
    """A config for the same build without the hook, in a copy of the sources.  ``bare``:
    nothing more (the lab pages, which the hook generates, are then missing: the nav may name
    them).  Otherwise what the hook generates (figures, lab notebooks, tokenizer data, the
    playground's engine, model, licences and manifest) is put into ``docs/`` first, so both
    builds render the same pages and copy the same files, and the ratio is the hook's own cost.
    Both builds are strict."""
    builder.copy_sources(dest)
    if not bare:
        generated = {**{f"assets/figures/{name}": svg for name, svg in figures.build(ROOT).items()},
                     **{f"labs/{name}.ipynb": path.read_bytes() for name, path in labs.build(ROOT).items()},
                     **{tokenizer_data.site_path(name): tokenizer_data.build(ROOT, name)
                        for name in tokenizer_data.URLS}}
        playground = playground_data.site_files(ROOT)
        generated |= {path: file.read_bytes() for path, file in playground.items()}
        generated[playground_data.MANIFEST] = playground_data.manifest(list(playground)).encode()
        for relative, content in generated.items():
            (dest / "docs" / relative).parent.mkdir(parents=True, exist_ok=True)
            (dest / "docs" / relative).write_bytes(content)
    missing_labs = "validation:\n  nav:\n    not_found: info\n  links:\n    not_found: info\n" if bare else ""
    (dest / "no-hook.yml").write_text(f"INHERIT: mkdocs.yml\nhooks: []\n{missing_labs}")
    return dest / "no-hook.yml"


def hook_build_seconds() -> tuple[float, float, float]:
    """Warm builds: with the hook, the same pages without it, and a bare build without it.
    The first two must render the same pages, or their ratio would not be the hook's cost."""
    with tempfile.TemporaryDirectory() as tmp:
        with_hook = build_seconds(ROOT / "mkdocs.yml", Path(tmp) / "a")
        same_pages = build_seconds(without_hook(Path(tmp) / "same", bare=False), Path(tmp) / "b")
        if lighthouse.pages(Path(tmp) / "a") != lighthouse.pages(Path(tmp) / "b"):
            raise RuntimeError("bench: the build without the hook did not render the same pages")
        bare = build_seconds(without_hook(Path(tmp) / "bare", bare=True), Path(tmp) / "c")
    return with_hook, same_pages, bare


def counting(counts: dict, key: str, original):
    """``original``, counting each call in ``counts[key]``."""
    def counted(*args, **kwargs):
        counts[key] += 1
        return original(*args, **kwargs)
    return counted


def executions_during(action) -> dict[str, int]:
    """Run ``action`` in this process, counting Jupyter kernel starts and gate runs."""
    from jupyter_client.manager import KernelManager

    counts = {"kernels started": 0, "gate runs": 0}
    patched = [(KernelManager, "_async_launch_kernel", "kernels started"), (*GATE_RUNS, "gate runs")]
    originals = [getattr(owner, name) for owner, name, _ in patched]
    for owner, name, key in patched:
        setattr(owner, name, counting(counts, key, getattr(owner, name)))
    try:
        action()
    finally:
        for (owner, name, _), original in zip(patched, originals, strict=True):
            setattr(owner, name, original)
    return counts


def warm_build(site: Path) -> None:
    """A warm build of the real site into ``site``, in this process, so that ``executions_during`` sees it."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    build(load_config(str(ROOT / "mkdocs.yml"), site_dir=str(site)))


def execute_one_lab(scratch: Path) -> None:
    """The control: running one lab notebook must show up in the counts."""
    from nbclient import NotebookClient

    notebook = labs.notebook(labs.discover(ROOT)[-1])
    NotebookClient(notebook, kernel_name="python3").execute(env=lab_environment(scratch))


def lighthouse_reports(site: Path) -> Iterator[tuple[str, lighthouse.Report]]:
    """Lighthouse (mobile preset, performance only) on every page, served with gzip: each
    page's URL path and report, as soon as it is audited.  For printing, never asserting:
    the score moves with the machine's load."""
    with serving(site) as url:
        for path in lighthouse.pages(site):
            yield path, lighthouse.audit(url + path.lstrip("/"), ["performance"])


def widget_figures(site: Path) -> dict | None:
    """Open the tokens page in Chromium (if installed) and time the widget, cold."""
    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(chromium).exists():
        return None
    from playwright.sync_api import sync_playwright

    with serving(site) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
        page = browser.new_page()
        page.goto(url + "llms/tokens/", wait_until="networkidle")
        text = sample_text(10_000)
        figures = page.evaluate(WIDGET_JS, text)
        figures["chars"], figures["utf8"] = len(text), len(text.encode())
        browser.close()
    return figures


PLAYGROUND_JS = """async () => {
    const shown = () => Number(document.querySelector('.playground').dataset.shown || 0);
    const failed = () => /could not|cannot/.test(document.getElementById('playground-status').textContent);
    const started = performance.now(), deadline = started + 300000;
    document.getElementById('playground-load').click();
    while (shown() < 1) {
        if (failed() || performance.now() > deadline) throw new Error('the model did not load');
        await new Promise((done) => setTimeout(done, 50));
    }
    const first = performance.now() - started;
    document.getElementById('playground-chat').checked = true;
    document.getElementById('playground-prompt').value = 'Write one sentence about the sea.';
    await window.studyLLMPlayground.restart();
    const steps = 20, begun = performance.now();
    for (let i = 0; i < steps; i++) {
        const before = shown();
        document.getElementById('playground-greedy').click();
        while (shown() === before) {
            if (failed() || performance.now() > deadline) throw new Error('a step did not finish');
            await new Promise((done) => setTimeout(done, 5));
        }
    }
    return {first, perStep: (performance.now() - begun) / steps};
}"""


def playground_figures(site: Path) -> dict | None:
    """The next-token playground in headless Chromium (if installed), one browser profile for
    both visits: bytes before and after the click, time from the click to the first
    distribution with the model downloaded and then cached, and the time per added token
    (each step asks the engine twice: the bars, and the same after the sampling settings)."""
    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(chromium).exists():
        return None
    from playwright.sync_api import sync_playwright

    figures = {}
    with (serving(site) as url, sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile):
        browser = playwright.chromium.launch_persistent_context(profile, executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
        for visit in ("downloaded", "cached"):
            page = browser.new_page()
            sizes = []
            # Bytes as sent (compressed); a response served from the browser's cache counts -1, so 0.
            page.on("requestfinished", lambda r, sizes=sizes: sizes.append(max(0, r.sizes()["responseBodySize"])))
            page.goto(url + "llms/next-token/", wait_until="networkidle")
            before = sum(sizes)
            result = page.evaluate(PLAYGROUND_JS)
            figures[visit] = {"before": before, "after": sum(sizes) - before, **result}
            page.close()
        browser.close()
    return figures
