"""`nopic bench render`: what rendering and signing one certificate document costs.

Each document is rendered twice, in turn: by one renderer kept for the whole run, as the worker
keeps it (fonts parsed once, subsets cut once per set of glyphs), and, as the baseline, by that
renderer given freshly parsed faces for the document, which parses the font files and cuts
their subsets again as every document did before. The documents vary: product and party names in
Latin, accented Latin, Greek and Cyrillic, and characters the font lacks, so some need subsets of
their own.

Besides the wall-clock percentiles it prints the median CPU time of the rendering thread: on a
machine shared with other work, waiting for a core inflates the first and hardly the second.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from activities.pdf_fonts import FontFaces
from activities.rendering import DATA_STYLES, FONT_FAMILY, CertificateRenderer, font_files
from cli.bench_http import percentiles
from cli.bench_measure import Progress
from domain.signing import generate_private_key_pem

CODE = "CODE1234"
ISSUED_AT = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
NAMES = (
    "Fresh Hass avocados",
    "Agro Andes SAC",
    "Palta orgánica «Señor» - Œuvre ß",
    "Αβοκάντο авокадо",
    "Kaffee Grün & Söhne GmbH",
    "有机牛油果 Export Co.",
)

# What every benchmark certificate shares: one shipment, December, Peru to Los Angeles.
SHIPPED = {
    **{"coverage": "single_shipment", "country_of_origin": "PE"},
    **{"valid_from": date(2026, 12, 1), "valid_until": date(2026, 12, 31)},
    **{"port_of_export": "Callao", "port_of_entry": "Los Angeles"},
}


@dataclass(frozen=True)
class RenderTiming:
    name: str
    p50_ms: float
    p95_ms: float
    cpu_p50_ms: float


def certificate(n: int) -> dict[str, Any]:
    """The canonical data of the nth benchmark certificate, as the documents repository reads it."""
    return {
        "schema": "nopic-certificate",
        "version": 1,
        "certificate_id": f"00000000-0000-4000-8000-{n:012d}",
        "number": f"555-5550000001-{n:06d}",
        "revision": 0,
        "replaces_number": None,
        "issued_at": ISSUED_AT,
        "certifier": {"code": "555", "name": "Andes Organic Certification", "country": "PE"},
        "exporter": {
            "operation_id": "5550000001",
            "name": NAMES[(n + 1) % len(NAMES)],
            "country": "PE",
        },
        "importer": {"operation_id": "5550000002", "name": "Pacific Organics", "country": "US"},
        "product_name": f"{NAMES[n % len(NAMES)]} lot {n}",
        "hts_code": "0804400020",
        "hts_description": "Avocados: Certified organic",
        "organic_category": "organic",
        "quantity_kg": Decimal(18000 + n),
        "lot_numbers": [f"L-2026-{n}"],
        "shipment": {"transport_mode": "sea", "bill_of_lading": f"MSCU{n:07d}", "containers": []},
        **SHIPPED,
    }


class Clock:
    """Wall and thread CPU milliseconds of the renderings it times."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def time(self, render: Callable[..., object], *args: Any) -> None:
        wall, cpu = time.perf_counter(), time.thread_time()
        render(*args)
        self.wall.append((time.perf_counter() - wall) * 1000)
        self.cpu.append((time.thread_time() - cpu) * 1000)

    def timing(self, name: str) -> RenderTiming:
        return RenderTiming(name, *percentiles(self.wall), statistics.median(self.cpu))


def _with_fresh_faces(renderer: CertificateRenderer, data: dict[str, Any]) -> None:
    # Parsing counts: add_font parsed every font file for each document.
    renderer.fonts = FontFaces(FONT_FAMILY, font_files(), data_styles=DATA_STYLES)
    renderer.render(data, CODE, ISSUED_AT)


def bench_render(documents: int) -> list[RenderTiming]:
    renderer = CertificateRenderer(generate_private_key_pem(), "https://nopic.example")
    kept_faces = renderer.fonts
    kept, baseline = Clock(), Clock()
    progress = Progress("render", documents)
    for n in range(documents):
        data = certificate(n)
        baseline.time(_with_fresh_faces, renderer, data)
        renderer.fonts = kept_faces
        kept.time(renderer.render, data, CODE, ISSUED_AT)
        progress.advance()
    progress.close()
    return [
        baseline.timing("fonts parsed and cut per document"),
        kept.timing("fonts parsed once, subsets kept"),
    ]


def run_bench_render(documents: int) -> int:
    baseline, kept = bench_render(documents)
    print(f"\nrender and sign one certificate, {documents} documents, each rendered both ways")
    print(f"{'renderer':<36}{'p50 ms':>9}{'p95 ms':>9}{'cpu p50 ms':>12}")
    for timing in (baseline, kept):
        print(
            f"{timing.name:<36}{timing.p50_ms:>9.1f}{timing.p95_ms:>9.1f}{timing.cpu_p50_ms:>12.1f}"
        )
    print(f"ratio (baseline p50 / kept p50): {baseline.p50_ms / kept.p50_ms:.1f}x")
    return 0
