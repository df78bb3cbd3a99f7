/* The next-token playground (llms/next-token.md): SmolLM2-135M-Instruct from the same Q4_1
 * GGUF file the page's Python outputs come from, run by llama.cpp compiled to WebAssembly
 * (wllama) in a worker, so the page never freezes. Nothing large loads until the reader
 * clicks: then the engine and the model come from this site (scripts/site/playground_data.py)
 * and the browser keeps the model for the next visit.
 *
 * Each update asks the engine twice for the next token: its own probabilities (temperature 1,
 * nothing cut: the bars), and the same after the reader's temperature, top-k and top-p (what
 * survives, and how much each gets). Token text is only ever set as text, never as HTML, and
 * every file comes from this site: wllama's fallback for browsers without WebAssembly JSPI
 * and Memory64 would fetch its engine from a CDN, so it is turned off and such a browser is
 * told, before anything downloads. */
(() => {
  "use strict";
  const root = document.querySelector(".playground");
  if (!root) return;
  const $ = (name) => root.querySelector(`#playground-${name}`);
  // Its styles travel with it, so that no other page carries them.
  const style = document.createElement("style");
  style.textContent = `
.playground{margin:1em 0 1.5em;padding:.8em 1em;border:1px solid var(--md-default-fg-color--lightest);border-radius:.2rem}
.playground fieldset{border:0;margin:0;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(9rem,1fr));gap:.4em .8em}
.playground fieldset>.playground-wide{grid-column:1/-1}
.playground label{display:block;font-weight:700}
.playground textarea,.playground input[type=number]{box-sizing:border-box;width:100%;padding:.3em;font:inherit;font-family:var(--md-code-font-family);color:var(--md-default-fg-color);background:var(--md-code-bg-color);border:1px solid var(--md-default-fg-color--light);border-radius:.2rem}
.playground progress{width:100%}
.playground-action{margin:.3em .4em .3em 0;padding:.4em .9em;font:inherit;font-weight:700;color:var(--md-default-fg-color);background:none;border:.1rem solid var(--md-accent-fg-color);border-radius:.2rem;cursor:pointer}
.playground-action:hover,.playground-action:focus-visible{background:var(--md-code-bg-color);outline:2px solid var(--md-accent-fg-color)}
.playground-action:disabled{cursor:default;opacity:.6}
.md-typeset .playground ol{list-style:none;margin:.6em 0;padding:0}
.md-typeset .playground ol li{margin:0}
.playground-bar{display:grid;grid-template-columns:8em 1fr 8em;gap:.5em;align-items:center;width:100%;padding:.15em .3em;font:inherit;color:inherit;background:none;border:0;border-radius:.2rem;cursor:pointer;text-align:left}
.playground-bar:hover,.playground-bar:focus-visible{background:var(--md-code-bg-color);outline:2px solid var(--md-accent-fg-color)}
.playground-token,.playground-p{font-family:var(--md-code-font-family);white-space:pre;overflow:hidden;text-overflow:ellipsis}
.playground-meter{height:.9em;background:linear-gradient(var(--md-accent-fg-color),var(--md-accent-fg-color)) 0 0/calc(var(--after)*100%) 45% no-repeat,linear-gradient(var(--md-default-fg-color--light),var(--md-default-fg-color--light)) 0 100%/calc(var(--p)*100%) 45% no-repeat}
.playground-top .playground-token{font-weight:700}
.playground-cut .playground-token{text-decoration:line-through}`;
  document.head.append(style);
  const assets = new URL(root.dataset.assets, location.href);
  const top = () => Number(root.dataset.top || 10); // the site's tests ask for more
  // SmolLM2's chat template, one user turn and the start of the reply (as apply_chat_template
  // writes it with add_generation_prompt=True and no system message of its own).
  const chat = (text) => "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face" +
    `<|im_end|>\n<|im_start|>user\n${text}<|im_end|>\n<|im_start|>assistant\n`;
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  // A token as Python's repr() shows it; a piece of a UTF-8 character as its bytes (\xNN).
  function shown(bytes) {
    let text;
    try { text = utf8.decode(Uint8Array.from(bytes)); } catch { return "b'" + bytes.map((b) => "\\x" + b.toString(16).padStart(2, "0")).join("") + "'"; }
    const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
    return quote + text.replace(/[\\\n\r\t]|[\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) =>
      ({ "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" })[c] ?? "\\x" + c.charCodeAt(0).toString(16).padStart(2, "0"))
      .replaceAll(quote, "\\" + quote) + quote;
  }
  let engine = null, added = [], base = 0, read = 0, running = false, busy = Promise.resolve(), bars = [], draw = null;

  const status = (text) => { $("status").textContent = text; };
  const clamp = (value, low, high, fallback) => (Number.isFinite(value) ? Math.min(high, Math.max(low, value)) : fallback);
  const settings = () => ({
    temperature: clamp(parseFloat($("temperature").value), 0.1, 2, 1),
    top_k: Math.round(clamp(parseFloat($("top-k").value), 0, 200, 0)),
    top_p: clamp(parseFloat($("top-p").value), 0.05, 1, 1),
    seed: Math.round(clamp(parseFloat($("seed").value), 0, 2 ** 31, 1)), // not -1: llama.cpp's "random"
  });
  const addedText = () => new TextDecoder().decode(Uint8Array.from(added.flatMap((token) => token.bytes)));
  const text = () => ($("chat").checked ? chat($("prompt").value) : $("prompt").value) + addedText();

  async function load() {
    if (!WebAssembly.Suspending || !memory64()) {
      status("This browser cannot run the playground: it needs WebAssembly JSPI and Memory64 (as of 2026-11, " +
        "recent Chrome or Edge). Nothing was downloaded.");
      return;
    }
    $("load").disabled = true;
    $("progress").hidden = false;
    status("Loading the engine…");
    try {
      const files = await (await fetch(new URL("files.json", assets))).json();
      const { Wllama } = await import(new URL(files.engine, assets).href);
      const quiet = { debug() {}, log() {}, info() {}, warn() {}, error: console.error };
      engine = new Wllama({ default: new URL(files.wasm, assets).href }, { logger: quiet });
      engine.setCompat(null); // never the CDN's compat build (checked above that none is needed)
      let said = -1;
      await engine.loadModelFromUrl(new URL(files.model, assets).href, {
        n_ctx: 1024, n_gpu_layers: 0, // on the CPU, as the Python examples run
        progressCallback: ({ loaded, total }) => {
          $("progress").value = total ? loaded / total : 0;
          const tenth = total ? Math.floor((10 * loaded) / total) : 0;
          if (tenth !== said) { // a screen reader hears every tenth, not every chunk
            said = tenth;
            status(total ? `Getting the model: ${tenth * 10}% of ${(total / 1e6).toFixed(0)} MB` : "Getting the model…");
          }
        },
      });
    } catch (error) {
      await engine?.exit().catch(() => {});
      engine = null;
      $("progress").hidden = true;
      $("load").disabled = false;
      status(`The model could not load: ${error.message}`);
      return;
    }
    $("progress").hidden = true;
    $("load").hidden = true;
    $("controls").disabled = false;
    root.classList.add("playground-ready");
    $("prompt").focus();
    await step(() => null);
  }

  function memory64() {
    try { new WebAssembly.Memory({ address: "i64", initial: 1n }); return true; } catch { return false; }
  }

  // One request for the next token, after the text and the tokens added here (appended as
  // text: the engine reads the whole text again, its start from its cache).
  function next(options) {
    return engine.createCompletion({
      prompt: text(), max_tokens: 1, cache_prompt: true,
      // transformers' order (temperature, then top-k, then top-p), and nothing else cut: by
      // default llama.cpp applies the temperature last and also drops tokens under min_p 0.05.
      n_probs: top(), logprobs: top(), samplers: ["temperature", "top_k", "top_p"], min_p: 0, ...options,
    }).then((reply) => ({ ...reply.choices[0].logprobs.content[0], read: reply.usage.prompt_tokens }));
  }

  // The bars: the model's own probabilities (logprobs before any sampling setting), and the
  // token the reader's settings draw with this seed, with its own log-probability. Then the
  // same request after the settings: what survives, renormalised (the same seed, the same draw).
  async function distribution() {
    const options = settings();
    const own = await next(options);
    const shaped = await next({ ...options, post_sampling_probs: true });
    const after = new Map(shaped.top_probs.map((t) => [t.id, t.prob]));
    read = own.read;
    if (!added.length) base = read;
    draw = { id: own.id, bytes: own.bytes, logprob: own.logprob };
    return own.top_logprobs.map((t) => ({ id: t.id, bytes: t.bytes, p: Math.exp(t.logprob), logprob: t.logprob, after: after.get(t.id) ?? 0 }));
  }

  const label = (token) => (engine.isTokenEOG(token.id) ? "<|im_end|> (the end of the reply)" : shown(token.bytes));

  function render() {
    const list = $("bars");
    const focused = [...list.children].findIndex((item) => item.contains(document.activeElement));
    list.replaceChildren(...bars.map((bar, i) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "playground-bar" + (i === 0 ? " playground-top" : "") + (bar.after ? "" : " playground-cut");
      Object.assign(button.dataset, { p: bar.p, after: bar.after, logprob: bar.logprob }); // unrounded, for the site's tests
      const after = bar.after ? bar.after.toFixed(3) : "cut";
      button.setAttribute("aria-label", `${label(bar)}: ${bar.p.toFixed(3)}; after your settings ${after}.` +
        (i === 0 ? " The most likely token." : "") + " Add it.");
      button.title = label(bar);
      const name = document.createElement("span");
      name.className = "playground-token";
      name.textContent = label(bar);
      const meter = document.createElement("span");
      meter.className = "playground-meter";
      meter.style.setProperty("--p", bar.p);
      meter.style.setProperty("--after", bar.after);
      const numbers = document.createElement("span");
      numbers.className = "playground-p";
      numbers.textContent = `${bar.p.toFixed(3)} → ${after}`;
      button.append(name, meter, numbers);
      button.addEventListener("click", () => step(() => bar));
      item.append(button);
      return item;
    }));
    if (focused >= 0) list.children[focused].firstChild.focus(); // a keyboard reader stays where they were
    const logprob = added.reduce((sum, token) => sum + token.logprob, 0);
    const retokenised = added.length && read !== base + added.length
      ? ` Read again as text, they make ${read - base} tokens, not ${added.length}: the sum is over the tokens picked.` : "";
    $("stats").textContent = `The model reads ${read} tokens. Added ${added.length}` +
      (added.length ? `: ${shown([...new TextEncoder().encode(addedText())])}` : "") +
      `. Log-probability of the added tokens (temperature 1): ${logprob.toFixed(2)}.${retokenised}`;
    $("undo").disabled = !added.length;
  }

  // Every change goes through here, one at a time: `pick` chooses, from the bars now on
  // screen, the token to add (or none), and the new distribution follows. A click while a
  // step runs is ignored, so two quick clicks add one token, from the distribution shown.
  function step(pick) {
    if (running) return busy;
    running = true;
    root.setAttribute("aria-busy", "true");
    busy = (async () => {
      try {
        const token = pick();
        if (token && engine.isTokenEOG(token.id)) {
          status("The model ends its reply here: <|im_end|> is not added.");
          return;
        }
        if (token) added.push({ id: token.id, bytes: token.bytes, logprob: token.logprob });
        status("Computing…");
        bars = await distribution();
        render();
        root.dataset.shown = Number(root.dataset.shown || 0) + 1; // how many updates are on screen (for tests)
        status(`Next-token distribution ready (${added.length} added).`);
      } catch (error) {
        bars = [];
        draw = null;
        $("bars").replaceChildren();
        status(`The model could not answer: ${error.message}`);
      } finally {
        running = false;
        root.removeAttribute("aria-busy");
      }
    })();
    return busy;
  }

  $("load").addEventListener("click", load);
  $("greedy").addEventListener("click", () => step(() => bars[0]));
  $("sample").addEventListener("click", () => step(() => {
    const token = draw;
    $("seed").value = settings().seed + 1; // a new draw next time, and the seed is on screen
    return token;
  }));
  $("undo").addEventListener("click", () => step(() => { added.pop(); return null; }));
  // A new text starts again; typing waits for a pause, so each keystroke does not cost a request.
  let typing = null;
  const restart = () => step(() => { added = []; return null; });
  $("prompt").addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(restart, 400); });
  $("chat").addEventListener("change", restart);
  for (const name of ["temperature", "top-k", "top-p", "seed"]) $(name).addEventListener("change", () => step(() => null));
  // For the site's tests: start the text again, or just recompute, and wait for the bars.
  window.studyLLMPlayground = { restart: () => busy.then(restart), update: () => busy.then(() => step(() => null)) };
})();
