"""Turn a GGUF file into a Hugging Face snapshot folder, once: ``python -m scripts.gate.convert_gguf GGUF OUT``.

``seed.py`` runs this in its own process (it imports transformers and torch, which the gate
itself never needs) the first time a clone seeds SmolLM2-135M-Instruct: a few minutes on 2
cores.  transformers reads the GGUF (its ``gguf`` reader dequantizes the Q4_1 blocks to
float32), and the model and tokenizer are saved as an ordinary snapshot, so reader code loads
them with ``from_pretrained("HuggingFaceTB/SmolLM2-135M-Instruct")`` in about two seconds
instead of twenty.  The output is the same bytes on every run (``seed.LLM_SHA256`` pins them).
"""

from __future__ import annotations

import sys
from pathlib import Path


def convert(gguf: Path, out: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model.hf_quantizer = None  # already dequantized to float32: save it as plain weights
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


if __name__ == "__main__":
    convert(Path(sys.argv[1]), Path(sys.argv[2]))
