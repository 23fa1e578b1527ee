"""Render a report chapter the way a reader sees it, for a look by eye (not a test).

    python scripts/check_report_render.py [--store anke.db] [--year 2023] [--out DIR]
                                          [--national-rate 48]

Without --store, the Gladsaxe acceptance scenario is built, classified and used
(classifier.scenario.run_scenario). Writes into DIR (default .cache/report-check):

- kapitel.html and screenshots of it from headless Chromium (kapitel-html-1.png, ...: one
  PNG per 1200x1600 screen);
- kapitel.docx, converted by LibreOffice to kapitel.pdf, and its pages as PNGs
  (kapitel-docx-1.png, ...) by pdftoppm.

Needs Debian's chromium, libreoffice (libreoffice-writer-nogui is enough) and poppler-utils:
    apt-get update && apt-get install -y chromium libreoffice-writer-nogui poppler-utils
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from classifier.report import write_report  # noqa: E402

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        sys.exit(f"{tool} not found: apt-get install -y chromium libreoffice-writer-nogui "
                 f"poppler-utils")
    return path


def screenshot_html(html: Path, out_dir: Path, *, width: int = 1200, screen: int = 1600,
                    height: int = 9000) -> list[Path]:
    """Full-page screenshot in Chromium, cut into screen-sized PNGs (blank tail dropped)."""
    from PIL import Image, ImageChops

    chromium = _need("chromium")
    full = out_dir / "kapitel-html-full.png"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                        f"--screenshot={full}", f"--window-size={width},{height}",
                        html.resolve().as_uri()], check=True, capture_output=True, timeout=180)
    image = Image.open(full).convert("RGB")
    bbox = ImageChops.difference(image, Image.new("RGB", image.size, "white")).getbbox()
    if bbox:
        image = image.crop((0, 0, width, min(image.height, bbox[3] + 40)))
    if image.height >= height - 10:
        print(f"warning: the page may be taller than {height}px; raise --height")
    pages = []
    for i, top in enumerate(range(0, image.height, screen), start=1):
        page = out_dir / f"kapitel-html-{i}.png"
        image.crop((0, top, width, min(image.height, top + screen))).save(page)
        pages.append(page)
    full.unlink()
    return pages


def docx_pages(docx: Path, out_dir: Path) -> list[Path]:
    """DOCX -> PDF (LibreOffice) -> PNG pages (pdftoppm)."""
    soffice = _need("libreoffice")
    pdftoppm = _need("pdftoppm")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless",
                        "--convert-to", "pdf", "--outdir", str(out_dir), str(docx)],
                       check=True, capture_output=True, timeout=300)
    pdf = out_dir / (docx.stem + ".pdf")
    if not pdf.exists():
        sys.exit(f"LibreOffice wrote no {pdf}")
    for old in out_dir.glob("kapitel-docx-*.png"):
        old.unlink()
    subprocess.run([pdftoppm, "-png", "-r", "70", str(pdf), str(out_dir / "kapitel-docx")],
                   check=True, timeout=120)
    return sorted(out_dir.glob("kapitel-docx-*.png"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", type=Path)
    ap.add_argument("--year", type=int, default=2023)
    ap.add_argument("--department")
    ap.add_argument("--national-rate", type=float, default=48.0)
    ap.add_argument("--out", type=Path, default=REPO / ".cache" / "report-check")
    args = ap.parse_args(argv)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    store = args.store
    if store is None:
        from classifier.scenario import run_scenario

        result = run_scenario(out / "scenario", formats=(), national_rate=args.national_rate)
        store = result["store"]
        print(f"scenario store: {store} ({len(result['misreadings'])} misread letters)")
    html = write_report(store, args.year, out / "kapitel.html", fmt="html",
                        department=args.department, national_rate=args.national_rate)
    docx = write_report(store, args.year, out / "kapitel.docx", fmt="docx",
                        department=args.department, national_rate=args.national_rate)
    print(f"html: {html}")
    for p in screenshot_html(html, out):
        print(f"  screen: {p}")
    print(f"docx: {docx}")
    for p in docx_pages(docx, out):
        print(f"  page: {p}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
