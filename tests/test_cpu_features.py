"""The CPU-feature read that picks the parity tests' uint8 tolerances."""

from __future__ import annotations

from posed.testing.cpu_features import flags_of, has_int8_dot_product

XEON = "processor\t: 0\nflags\t\t: fpu sse4_2 avx2 avx512f avx512_vnni\n\nprocessor\t: 1\nflags\t\t: fpu\n"
EPYC = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse4_2 fma avx avx2\n"


def test_vnni_counts_as_an_int8_dot_product() -> None:
    """Guards: a VNNI CPU is held to the tight tolerances measured on one."""
    assert has_int8_dot_product(XEON)
    assert has_int8_dot_product("flags\t: avx2 avx_vnni\n")
    assert has_int8_dot_product("flags\t: avx2 amx_int8 amx_tile\n")


def test_avx2_alone_does_not() -> None:
    """Guards: an AVX2-only CPU gets the looser tolerances measured on one, not the VNNI ones."""
    assert not has_int8_dot_product(EPYC)
    assert not has_int8_dot_product("")


def test_only_the_first_processor_block_is_read() -> None:
    assert flags_of(XEON) == frozenset({"fpu", "sse4_2", "avx2", "avx512f", "avx512_vnni"})
