"""What the CPU offers that changes which model file runs fastest."""

from __future__ import annotations


def fast_int8_cpu() -> bool:
    """True where the CPU has int8 dot-product instructions ONNX Runtime uses (x86 AVX-512 VNNI,
    which AMX CPUs have too): ``precision="auto"`` runs the bundled int8 model there, faster than
    fp32 (docs/speed.md); elsewhere int8 can be slower than fp32."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features  # numpy 2
    except ImportError:  # pragma: no cover - numpy 1
        from numpy.core._multiarray_umath import __cpu_features__ as features  # type: ignore[no-redef]
    return bool(features.get("AVX512VNNI"))
