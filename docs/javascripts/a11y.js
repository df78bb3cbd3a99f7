/*
 * Study LLM with me: small accessibility fixes to the theme's markup.
 * A region that scrolls sideways (a wide table, a code block or a lab's cell) must be reachable
 * by keyboard, so it gets tabindex="0" and a name (WCAG 2.1.1, axe "scrollable-region-focusable").
 */
(function () {
  "use strict";
  function fix() {
    const scrolling = ".md-typeset__scrollwrap, .md-typeset pre > code, .jupyter-wrapper .highlight-ipynb, .jupyter-wrapper .jp-OutputArea pre";
    document.querySelectorAll(scrolling).forEach((region) => {
      if (!region.hasAttribute("tabindex")) region.setAttribute("tabindex", "0");
      if (region.classList.contains("md-typeset__scrollwrap") && !region.hasAttribute("aria-label")) {
        region.setAttribute("role", "region");
        region.setAttribute("aria-label", "Scrollable table");
      }
    });
  }
  // Material wraps tables after the page loads: run after each of its content updates.
  if (window.document$) window.document$.subscribe(() => requestAnimationFrame(fix));
  else window.addEventListener("load", fix);

  // Material sets a code block up (its copy button) only once it is on screen: content.lazy in
  // mkdocs.yml. Tabbing forward onto a block not set up yet would land behind the copy button
  // it is about to get, so the focus moves to that button: the same order as for a block set
  // up earlier (button, then code). When setting up takes tabindex off the focused code (it
  // does not scroll), the focus would fall to the page: it goes to the button then too.
  let tabbedForward = 0;
  let pending = null;  // the watcher of the last block focused before it was set up
  document.addEventListener("keydown", (event) => {
    if (event.key === "Tab") tabbedForward = event.shiftKey ? 0 : performance.now();
  }, true);
  document.addEventListener("focusin", (event) => {
    if (pending) pending.disconnect();  // the focus moved on
    pending = null;
    const code = event.target;
    if (!(code instanceof Element) || !code.matches(".md-typeset pre > code")) return;
    const pre = code.parentElement;
    if (pre.querySelector(".md-code__nav")) return;
    const forward = performance.now() - tabbedForward < 1000;
    const watcher = new MutationObserver(() => {
      const button = pre.querySelector(".md-code__nav button");
      if (!button) return;
      watcher.disconnect();
      const focused = document.activeElement;
      if (focused === document.body || (focused === code && forward)) button.focus();
    });
    watcher.observe(pre, { childList: true });
    pending = watcher;
  });

  // Material keeps tabindex on a code block that scrolls only where the device can hover; a
  // keyboard on a tablet needs it too (WCAG 2.1.1), so it goes back on.
  new MutationObserver((changes) => changes.forEach(({ target }) => {
    if (target.matches(".md-typeset pre > code") && !target.hasAttribute("tabindex")
        && target.scrollWidth > target.clientWidth) target.setAttribute("tabindex", "0");
  })).observe(document.body, { subtree: true, attributes: true, attributeFilter: ["tabindex"] });
})();
