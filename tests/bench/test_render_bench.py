"""`nopic bench render` prints its figures (wall p50 and p95, CPU p50) and the ratio (speed
itself is never asserted)."""

from __future__ import annotations

import re

from tests.bench.run import nopic_bench

NUMBER = r"\d+\.\d"


def test_bench_render_prints_both_renderers_and_their_ratio() -> None:
    lines = nopic_bench("render", "--documents", "3", timeout=120)
    for name in ("fonts parsed and cut per document", "fonts parsed once, subsets kept"):
        assert any(
            re.fullmatch(rf"{name}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}", line) for line in lines
        ), name
    ratio = rf"ratio \(baseline p50 / kept p50\): {NUMBER}x"
    assert any(re.fullmatch(ratio, line) for line in lines)
    assert any(line.startswith("render ") and "3/3" in line for line in lines)
