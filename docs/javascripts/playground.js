/* The next-token playground (llms/next-token.md): SmolLM2-135M-Instruct from the same Q4_1
 * GGUF file the page's Python outputs come from, run by llama.cpp compiled to WebAssembly
 * (wllama) in a worker, so the page never freezes. Nothing large loads until the reader
 * clicks: then the engine and the model come from this site (scripts/site/playground_data.py)
 * and the browser keeps the model for the next visit.
 *
 * Each update asks the engine twice for the next token: its own probabilities (temperature 1,
 * nothing cut: the bars), and the same after the reader's temperature, top-k and top-p (what
 * survives, and how much each gets). Token text is only ever set as text, never as HTML. */
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
.playground textarea,.playground input[type=number]{box-sizing:border-box;width:100%;padding:.3em;font:inherit;font-family:var(--md-code-font-family);color:var(--md-default-fg-color);background:var(--md-code-bg-color);border:1px solid var(--md-default-fg-color--lighter);border-radius:.2rem}
.playground progress{width:100%}
.playground-action{margin:.3em .4em .3em 0;padding:.4em .9em;font:inherit;font-weight:700;color:var(--md-default-fg-color);background:none;border:.1rem solid var(--md-accent-fg-color);border-radius:.2rem;cursor:pointer}
.playground-action:hover,.playground-action:focus-visible{background:var(--md-code-bg-color);outline:2px solid var(--md-accent-fg-color)}
.playground-action:disabled{cursor:default;opacity:.6}
.playground ol{list-style:none;margin:.6em 0;padding:0}
.playground li{margin:0}
.playground-bar{display:grid;grid-template-columns:8em 1fr 8em;gap:.5em;align-items:center;width:100%;padding:.15em .3em;font:inherit;color:inherit;background:none;border:0;border-radius:.2rem;cursor:pointer;text-align:left}
.playground-bar:hover,.playground-bar:focus-visible{background:var(--md-code-bg-color);outline:2px solid var(--md-accent-fg-color)}
.playground-token,.playground-p{font-family:var(--md-code-font-family);white-space:pre;overflow:hidden;text-overflow:ellipsis}
.playground-meter{height:.9em;background:linear-gradient(var(--md-accent-fg-color),var(--md-accent-fg-color)) 0 0/calc(var(--after)*100%) 45% no-repeat,linear-gradient(var(--md-default-fg-color--light),var(--md-default-fg-color--light)) 0 100%/calc(var(--p)*100%) 45% no-repeat}
.playground-top .playground-token{font-weight:700}
.playground-cut .playground-token{text-decoration:line-through}`;
  document.head.append(style);
  const assets = new URL(root.dataset.assets, location.href);
  const TOP = 10;
  // SmolLM2's chat template, one user turn and the start of the reply (as apply_chat_template
  // writes it with add_generation_prompt=True and no system message of its own).
  const chat = (text) => "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face" +
    `<|im_end|>\n<|im_start|>user\n${text}<|im_end|>\n<|im_start|>assistant\n`;
  const shown = (text) => "'" + text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/'/g, "\\'") + "'";
  let engine = null, added = [], busy = Promise.resolve(), draw = null, read = 0;

  const status = (text) => { $("status").textContent = text; };
  const settings = () => ({
    temperature: Number($("temperature").value), top_k: Number($("top-k").value),
    top_p: Number($("top-p").value), seed: Number($("seed").value),
  });
  const text = () => ($("chat").checked ? chat($("prompt").value) : $("prompt").value);

  async function load() {
    $("load").disabled = true;
    $("progress").hidden = false;
    status("Loading the engine…");
    try {
      const { Wllama } = await import(new URL("wllama.js", assets).href);
      const quiet = { debug() {}, log() {}, info() {}, warn() {}, error: console.error };
      engine = new Wllama({ default: new URL("wllama.wasm", assets).href }, { logger: quiet, allowOffline: true });
      await engine.loadModelFromUrl(new URL(root.dataset.model, assets).href, {
        n_ctx: 1024, n_gpu_layers: 0, // on the CPU, as the Python examples run
        progressCallback: ({ loaded, total }) => {
          $("progress").value = total ? loaded / total : 0;
          status(`Downloading the model: ${(loaded / 1e6).toFixed(0)} of ${(total / 1e6).toFixed(0)} MB`);
        },
      });
    } catch (error) {
      status(`The model could not load: ${error.message}`);
      $("load").disabled = false;
      return;
    }
    $("progress").hidden = true;
    $("controls").disabled = false;
    root.classList.add("playground-ready");
    update();
  }

  // One request for the next token, after the text and the tokens added here (appended as
  // text: the engine reads the whole text again, its start from its cache).
  function next(options) {
    return engine.createCompletion({
      prompt: text() + added.map((token) => token.token).join(""), max_tokens: 1, cache_prompt: true,
      // transformers' order (temperature, then top-k, then top-p), and nothing else cut: by
      // default llama.cpp applies the temperature last and also drops tokens under min_p 0.05.
      n_probs: TOP, logprobs: TOP, samplers: ["temperature", "top_k", "top_p"], min_p: 0, ...options,
    }).then((reply) => ({ ...reply.choices[0].logprobs.content[0], read: reply.usage.prompt_tokens }));
  }

  // The bars: the model's own probabilities (logprobs before any sampling setting), and the
  // token the reader's settings draw with this seed, with its own log-probability. Then the
  // same request after the settings: what survives, renormalised (the same seed, the same draw).
  async function distribution() {
    const options = { ...settings(), top_k: settings().top_k || 0 };
    const own = await next(options);
    const shaped = await next({ ...options, post_sampling_probs: true });
    const after = new Map(shaped.top_probs.map((t) => [t.id, t.prob]));
    draw = { id: own.id, token: own.token, logprob: own.logprob };
    read = own.read;
    return own.top_logprobs.map((t) => ({ id: t.id, token: t.token, p: Math.exp(t.logprob), logprob: t.logprob, after: after.get(t.id) ?? 0 }));
  }

  function render(bars) {
    const list = $("bars");
    const focused = [...list.children].findIndex((item) => item.contains(document.activeElement));
    list.replaceChildren(...bars.map((bar, i) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "playground-bar" + (i === 0 ? " playground-top" : "") + (bar.after ? "" : " playground-cut");
      Object.assign(button.dataset, { p: bar.p, after: bar.after }); // unrounded, for the site's tests
      const after = bar.after ? bar.after.toFixed(3) : "cut";
      button.setAttribute("aria-label", `${shown(bar.token)}: ${bar.p.toFixed(3)}; after your settings ${after}.` +
        (i === 0 ? " The most likely token." : "") + " Append it.");
      const label = document.createElement("span");
      label.className = "playground-token";
      label.textContent = shown(bar.token);
      const meter = document.createElement("span");
      meter.className = "playground-meter";
      meter.style.setProperty("--p", bar.p);
      meter.style.setProperty("--after", bar.after);
      const numbers = document.createElement("span");
      numbers.className = "playground-p";
      numbers.textContent = `${bar.p.toFixed(3)} → ${after}`;
      button.append(label, meter, numbers);
      button.addEventListener("click", () => append({ id: bar.id, token: bar.token, logprob: bar.logprob }));
      item.append(button);
      return item;
    }));
    if (focused >= 0) list.children[focused].firstChild.focus(); // a keyboard reader stays where they were
    const logprob = added.reduce((sum, token) => sum + token.logprob, 0);
    $("stats").textContent = `The model reads ${read} tokens. Added ${added.length}` +
      (added.length ? `: ${added.map((t) => t.token).join("")}` : "") +
      `. Log-probability of the added tokens (temperature 1): ${logprob.toFixed(2)}.`;
  }

  // Requests run one at a time, in order: a slider moved twice waits for the first answer.
  function update() {
    busy = busy.then(async () => {
      status("Computing…");
      try {
        render(await distribution());
        root.dataset.shown = Number(root.dataset.shown || 0) + 1; // how many updates are on screen (for tests)
        status(`Next-token distribution ready (${added.length} added).`);
      } catch (error) {
        status(`The model could not answer: ${error.message}`);
      }
    });
    return busy;
  }

  function append(token) {
    added.push(token);
    update();
  }

  $("load").addEventListener("click", load);
  $("greedy").addEventListener("click", () => busy.then(() => {
    const first = $("bars").querySelector("button");
    if (first) first.click();
  }));
  $("sample").addEventListener("click", () => busy.then(() => {
    if (!draw) return;
    append(draw);
    $("seed").value = Number($("seed").value) + 1; // a new draw next time, and the seed is on screen
  }));
  $("undo").addEventListener("click", () => { added.pop(); update(); });
  // A new text starts again; typing waits for a pause, so each keystroke does not cost a request.
  let typing = null;
  $("prompt").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => { added = []; update(); }, 400);
  });
  $("chat").addEventListener("change", () => { added = []; update(); });
  for (const name of ["temperature", "top-k", "top-p", "seed"]) $(name).addEventListener("change", update);
  // For the site's tests: start the text again, and wait for the bars of the current inputs.
  window.studyLLMPlayground = { load, update, reset() { added = []; } };
})();
