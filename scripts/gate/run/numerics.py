"""The float code path a run takes: one for every x86-64 CPU with AVX2, and a perturbed one to
test an output's margin.  Standard library only.

Each library that picks its kernels by the CPU (AVX-512 or AVX2, Intel or AMD) is held to its
AVX2 branch (MKL guarantees that branch on Intel CPUs only; elsewhere sameness is measured).
Measured on this project's machines, with ``snippets/lora_finetune.py``'s held-out loss
before training (raw float):

=================================================== ==========================================
code path                                           held-out loss
=================================================== ==========================================
AVX-512 Intel Xeon, the CPU's own choice             4.365006  (prints 4.37)
AVX2-only AMD EPYC, the CPU's own choice             4.36499548  (prints 4.36)
AVX-512 Intel Xeon, ``PINNED`` below                 4.36499548  (the AMD machine's very value)
=================================================== ==========================================

The other half of reproducibility, one thread, is in ``environment.PINNED``.
"""

from __future__ import annotations

from pathlib import Path

PINNED = {
    "MKL_CBWR": "AVX2,STRICT",  # torch's BLAS and vector maths (MKL): its AVX2 branch; STRICT: gemm bitwise too
    "ATEN_CPU_CAPABILITY": "avx2",  # torch's own kernels (softmax, reductions, attention)
    "ONEDNN_MAX_CPU_ISA": "AVX2",  # oneDNN (torch's convolutions and low-precision matmuls)
    "OPENBLAS_CORETYPE": "Haswell",  # numpy's, scipy's and faiss's OpenBLAS: its AVX2 kernels
    "FAISS_OPT_LEVEL": "AVX2",  # faiss loads its AVX2 build
    # numpy's own SIMD loops (exp, log, ...): no AVX-512 ones (a name this CPU lacks is ignored)
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
}
# Older kernels every x86-64 CPU has (SSE-era BLAS, no ATen vectorisation).
NARROWER = {
    "MKL_CBWR": "COMPATIBLE,STRICT",
    "ATEN_CPU_CAPABILITY": "default",
    "ONEDNN_MAX_CPU_ISA": "SSE41",
    "OPENBLAS_CORETYPE": "Sandybridge",
    "FAISS_OPT_LEVEL": "generic",
    "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR",
}


def has(flag: str, cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether this CPU reports ``flag`` (``avx2``, ``avx512f``) in ``/proc/cpuinfo``."""
    try:
        return flag in cpuinfo.read_text(errors="replace").split()
    except OSError:
        return False


def wider_than_pinned() -> bool:
    """Whether this CPU has AVX-512, so that its own choice of kernels differs from ``PINNED``."""
    return has("avx512f")


def can_record() -> bool:
    """Whether this machine runs the pinned path at all (x86-64 with AVX2): where it does not,
    the pins are ignored, and an output recorded here would not be the pinned path's."""
    return has("avx2")


def perturbed(cpu_wider: bool, intel: bool) -> dict[str, str]:
    """The perturbed path: where the CPU has wider kernels, its own choice (nothing pinned: what
    a reader who runs the code by hand gets, and the path that moved the loss above across a
    rounding boundary); else the narrower kernels.  MKL takes its AVX-512 branch on Intel CPUs
    only: on an AVX-512 AMD CPU its own choice is the pinned AVX2 branch, so there MKL alone
    gets its narrower kernels, or its matrix products would not be perturbed at all.  An output
    whose bytes differ on this path is too close to a rounding boundary to be the same on every
    machine.

    >>> perturbed(cpu_wider=True, intel=True), perturbed(cpu_wider=True, intel=False)
    ({}, {'MKL_CBWR': 'COMPATIBLE,STRICT'})
    >>> perturbed(cpu_wider=False, intel=False) == NARROWER
    True
    """
    if not cpu_wider:
        return NARROWER
    return {} if intel else {"MKL_CBWR": NARROWER["MKL_CBWR"]}


PERTURBED = perturbed(wider_than_pinned(), has("GenuineIntel"))
NUMERICS = {"pinned": PINNED, "perturbed": PERTURBED}


def described(numerics: str) -> str:
    """A float code path in words, for a report: its settings, or what having none means."""
    return ", ".join(f"{k}={v}" for k, v in NUMERICS[numerics].items()) or "this CPU's own kernels, nothing pinned"
