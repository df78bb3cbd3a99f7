/*
 * Study LLM with me: the cl100k_base and o200k_base tokenizers, in the reader's browser.
 *
 * It gives exactly the ids of Python's tiktoken (tests/browser/test_tokenizer_widget.py
 * compares them on thousands of strings). Two parts, as in tiktoken:
 *
 * 1. Split the text into pieces with the encoding's pattern. cl100k's pattern uses possessive
 *    quantifiers (`?+`, `++`, `*+`), which JavaScript lacks; each is written here as an
 *    atomic group, `(?=(X))\1`: the look-ahead captures the longest match and the back-
 *    reference consumes exactly it, so the engine cannot backtrack into it. `\s` is spelled
 *    out as Unicode White_Space (what the Rust regex crate means by `\s`), because
 *    JavaScript's `\s` also matches U+FEFF and misses U+0085. o200k's pattern has no
 *    possessive quantifiers; its case-insensitive contractions `(?i:'s|...)` are spelled out,
 *    with the long s (U+017F) that case folding also matches.
 * 2. Encode each piece's UTF-8 bytes with byte-pair merges: repeatedly merge the adjacent
 *    pair with the lowest rank, leftmost first (tiktoken's `_byte_pair_merge`).
 *
 * A vocabulary (assets/tokenizer/<name>.bin.gz, built from the same hash-verified file the
 * Python examples use, see scripts/site/tokenizer_data.py) is fetched only when it is needed:
 * cl100k_base when a widget comes on screen or gets focus, o200k_base when the reader picks
 * it. Special tokens such as <|endoftext|> are plain text.
 */
(function () {
  "use strict";

  const WS = "\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
  const S = `[${WS}]`;
  const NOT_S = `[^${WS}]`;
  const CL100K = new RegExp(
    [
      "'(?:[sdmtSDMT\\u017f]|[lL][lL]|[vV][eE]|[rR][eE])", // '(?i:[sdmt]|ll|ve|re)
      "(?=([^\\r\\n\\p{L}\\p{N}]?))\\1(?=(\\p{L}+))\\2", // [^\r\n\p{L}\p{N}]?+\p{L}++
      "(?=(\\p{N}{1,3}))\\3", // \p{N}{1,3}+
      ` ?(?=([^${WS}\\p{L}\\p{N}]+))\\4(?=([\\r\\n]*))\\5`, // ?[^\s\p{L}\p{N}]++[\r\n]*+
      `(?=(${S}+))\\6$`, // \s++$
      `${S}*[\\r\\n]`, // \s*[\r\n]
      `${S}+(?!${NOT_S})`, // \s+(?!\S)
      S, // \s
    ].join("|"),
    "gu",
  );
  const CONTRACTION = "(?:'[sS\\u017f]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?";
  const UPPER = "[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]";
  const LOWER = "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]";
  const O200K = new RegExp(
    [
      `[^\\r\\n\\p{L}\\p{N}]?${UPPER}*${LOWER}+${CONTRACTION}`,
      `[^\\r\\n\\p{L}\\p{N}]?${UPPER}+${LOWER}*${CONTRACTION}`,
      "\\p{N}{1,3}",
      ` ?[^${WS}\\p{L}\\p{N}]+[\\r\\n/]*`,
      `${S}*[\\r\\n]+`,
      `${S}+(?!${NOT_S})`,
      `${S}+`,
    ].join("|"),
    "gu",
  );
  const PATTERNS = { cl100k_base: CL100K, o200k_base: O200K };

  const utf8 = new TextEncoder();

  /** Bytes as a "binary string" (one char per byte): a cheap, exact Map key. */
  function binary(bytes) {
    let out = "";
    for (let i = 0; i < bytes.length; i += 8192) {
      out += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
    }
    return out;
  }

  class Encoder {
    constructor(tokens, pattern) {
      this.tokens = tokens; // rank -> binary string
      this.pattern = pattern;
      this.ranks = new Map(tokens.map((token, rank) => [token, rank]));
      this.pieces = new Map(); // piece -> ids, as tiktoken caches nothing but is fast in Rust
    }

    static fromBuffer(buffer, pattern) {
      const view = new DataView(buffer);
      const count = view.getUint32(0, true);
      const lengths = new Uint8Array(buffer, 4, count);
      const bytes = new Uint8Array(buffer, 4 + count);
      const tokens = new Array(count);
      let offset = 0;
      for (let rank = 0; rank < count; rank++) {
        tokens[rank] = binary(bytes.subarray(offset, offset + lengths[rank]));
        offset += lengths[rank];
      }
      return new Encoder(tokens, pattern);
    }

    rank(piece, start, end) {
      const rank = this.ranks.get(piece.slice(start, end));
      return rank === undefined ? Infinity : rank;
    }

    /** tiktoken's byte-pair merge of one piece (a binary string of 2 or more bytes). */
    merge(piece) {
      const starts = [];
      const ranks = [];
      for (let i = 0; i < piece.length - 1; i++) {
        starts.push(i);
        ranks.push(this.rank(piece, i, i + 2));
      }
      starts.push(piece.length - 1, piece.length);
      ranks.push(Infinity, Infinity);
      for (;;) {
        let best = Infinity;
        let at = -1;
        for (let i = 0; i < ranks.length - 1; i++) {
          if (ranks[i] < best) {
            best = ranks[i];
            at = i;
          }
        }
        if (at < 0) break;
        ranks[at] = at + 3 < starts.length ? this.rank(piece, starts[at], starts[at + 3]) : Infinity;
        if (at > 0) {
          ranks[at - 1] = this.rank(piece, starts[at - 1], starts[at + 2]);
        }
        starts.splice(at + 1, 1);
        ranks.splice(at + 1, 1);
      }
      const ids = [];
      for (let i = 0; i < starts.length - 1; i++) {
        ids.push(this.rank(piece, starts[i], starts[i + 1]));
      }
      return ids;
    }

    encodePiece(text) {
      let ids = this.pieces.get(text);
      if (ids === undefined) {
        const piece = binary(utf8.encode(text));
        const whole = this.ranks.get(piece);
        ids = whole !== undefined ? [whole] : this.merge(piece);
        if (this.pieces.size > 50000) this.pieces.clear();
        this.pieces.set(text, ids);
      }
      return ids;
    }

    /** Token ids of `text`, exactly as tiktoken's encode(text, disallowed_special=()). */
    encode(text) {
      const ids = [];
      for (const match of text.matchAll(this.pattern)) {
        for (const id of this.encodePiece(match[0])) ids.push(id);
      }
      return ids;
    }

    /** The bytes of one token, as numbers. */
    bytesOf(id) {
      const token = this.tokens[id];
      const out = new Uint8Array(token.length);
      for (let i = 0; i < token.length; i++) out[i] = token.charCodeAt(i);
      return out;
    }
  }

  // ---- Loading: once per page, on first need -------------------------------------------

  const loading = new Map(); // name -> Promise<Encoder>

  function vocabularyUrl(name) {
    const config = JSON.parse(document.getElementById("__config")?.textContent || "{}");
    return new URL(`${config.base || "."}/assets/tokenizer/${name}.bin.gz`, location.href);
  }

  async function download(name) {
    performance.mark("tokenizer-load-start");
    const response = await fetch(vocabularyUrl(name));
    if (!response.ok) throw new Error(`HTTP ${response.status} for ${response.url}`);
    const stream = response.body.pipeThrough(new DecompressionStream("gzip"));
    const encoder = Encoder.fromBuffer(await new Response(stream).arrayBuffer(), PATTERNS[name]);
    performance.mark("tokenizer-ready");
    return encoder;
  }

  function load(name = "cl100k_base") {
    if (!PATTERNS[name]) return Promise.reject(new Error(`unknown encoding ${name}`));
    if (!loading.has(name)) loading.set(name, download(name));
    return loading.get(name);
  }

  // ---- The widget ------------------------------------------------------------------------

  /** Tokens grouped so that every group decodes to whole characters. */
  function groups(encoder, ids) {
    const decoder = new TextDecoder("utf-8", { fatal: true });
    const result = [];
    let pending = [];
    let bytes = [];
    for (const id of ids) {
      pending.push(id);
      bytes.push(...encoder.bytesOf(id));
      try {
        result.push({ ids: pending, text: decoder.decode(new Uint8Array(bytes)) });
        pending = [];
        bytes = [];
      } catch (incomplete) {
        // this token ends inside a character (an emoji, a CJK character): keep going
      }
    }
    if (pending.length) result.push({ ids: pending, text: "\ufffd" });
    return result;
  }

  const VISIBLE = { " ": "·", "\t": "→", "\n": "↵\n", "\r": "␍" };

  function renderGroup(group, index) {
    const span = document.createElement("span");
    span.className = `tk tk-${index % 5}` + (group.ids.length > 1 ? " tk-split" : "");
    span.title = group.ids.length > 1
      ? `${group.ids.length} tokens for one character: ${group.ids.join(", ")}`
      : `token ${group.ids[0]}`;
    for (const char of group.text) {
      if (VISIBLE[char]) {
        const mark = document.createElement("span");
        mark.className = "tk-ws";
        mark.textContent = VISIBLE[char];
        span.append(mark);
      } else {
        span.append(char);
      }
    }
    return span;
  }

  function update(widget, encoder) {
    const text = widget.querySelector("textarea").value;
    const ids = encoder.encode(text);
    const chars = [...text].length;
    widget.querySelector(".tokenizer-count").textContent =
      `${ids.length} ${ids.length === 1 ? "token" : "tokens"}, ${chars} ${chars === 1 ? "character" : "characters"}`;
    const shown = groups(encoder, ids);
    widget.querySelector(".tokenizer-pieces").replaceChildren(...shown.map(renderGroup));
    widget.querySelector(".tokenizer-ids").textContent = `[${ids.join(", ")}]`;
  }

  function start(widget) {
    const input = widget.querySelector("textarea");
    const choice = widget.querySelector("select");
    const status = widget.querySelector(".tokenizer-count");
    let encoder = null;
    let queued = false;
    const refresh = () => {
      if (queued || !encoder) return;
      queued = true;
      requestAnimationFrame(() => {
        queued = false;
        update(widget, encoder);
      });
    };
    const use = (name) => {
      widget.classList.remove("tokenizer-ready");
      status.textContent = `Loading the ${name} vocabulary…`;
      load(name).then(
        (loaded) => {
          if (choice && choice.value !== name) return; // the reader has picked another since
          encoder = loaded;
          widget.classList.add("tokenizer-ready");
          update(widget, encoder);
        },
        (error) => {
          status.textContent = `Could not load the tokenizer vocabulary (${error.message}).`;
        },
      );
    };
    let begun = false;
    const begin = () => {
      if (begun) return;
      begun = true;
      input.addEventListener("input", refresh);
      if (choice) choice.addEventListener("change", () => use(choice.value));
      use(choice ? choice.value : "cl100k_base");
    };
    input.addEventListener("focus", begin, { once: true });
    if (choice) choice.addEventListener("focus", begin, { once: true });
    new IntersectionObserver((entries, observer) => {
      if (entries.some((entry) => entry.isIntersecting)) {
        observer.disconnect();
        begin();
      }
    }).observe(widget);
  }

  window.studyLLMTokenizer = {
    load,
    encode: async (text, name) => (await load(name)).encode(text),
    encodeAll: async (texts, name) => {
      const encoder = await load(name);
      return texts.map((text) => encoder.encode(text));
    },
  };

  document.querySelectorAll(".tokenizer-widget").forEach(start);
})();
