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
})();
