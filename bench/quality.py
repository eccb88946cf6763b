"""Quality bench of the local engine on real photos: what a merchant would refuse to show, measured.

Run: make quality DIR=/path/to/photos   (or .venv/bin/python bench/quality.py --dir DIR [options])

DIR is a folder of research photos read at run time and never copied into the project: DIR/ootd/person/* (the
shoppers), DIR/ootd/garment/* (product photos; DIR/README.md lists which ids are tops, bottoms and dresses) and
DIR/paired/{person,garment,agnostic}/ID.jpg (the papers' paired protocol). Every person is tried on a spread of
garments of each category through `LocalEngine().run(...)`, the way the worker calls it; each result gets the
measures of bench/_quality_measures.py (spill, face, fragments, coverage, holes, residue, fidelity), each with a
threshold; a refusal (EngineError) is counted with its code. The paired SSIM is printed next to its floor, the
SSIM of the agnostic input returned unchanged. Writes report.json, contact sheets (PNG) and the results to --out,
which must lie outside the project. Not part of `make bench`: it needs the photos and takes minutes.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._quality_measures import THRESHOLDS, flags, garment_pixels, measure  # noqa: E402
from bench._quality_person import PersonAnalyser, to_lab  # noqa: E402
from bench._quality_report import (  # noqa: E402
    PANEL,
    contact_sheets,
    overlay,
    paired_ssim,
    summarise,
    table,
)
from engines.base import Category, EngineError, TryOnRequest  # noqa: E402
from engines.local import LocalEngine  # noqa: E402
from engines.local.engine import JPEG_QUALITY  # noqa: E402

CATEGORIES = ("tops", "bottoms", "dresses")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


def garment_categories(readme: Path) -> dict[str, str]:
    """garment id -> category, from the README's "- tops: `id` `id` ..." items (continuation lines included)."""
    categories: dict[str, str] = {}
    current = None
    for line in readme.read_text().splitlines():
        label = re.match(r"\s*-\s*(tops|bottoms|dresses)\b[^:]*:", line)
        if label:
            current = label.group(1)
        elif re.match(r"\s*(-|#)", line) or not line.strip():
            current = None
        if current is not None:
            for garment_id in re.findall(r"`([^`]+)`", line):
                categories[garment_id] = current
    return categories


def spread(items: list, count: int) -> list:
    """`count` items evenly spread over the sorted list (deterministic)."""
    if count >= len(items):
        return list(items)
    return [items[int((i + 0.5) * len(items) / count)] for i in range(count)]


def images_in(folder: Path) -> dict[str, Path]:
    return {p.stem: p for p in sorted(folder.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES}


def decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


def thumb(image: np.ndarray | None) -> np.ndarray | None:
    if image is None:
        return None
    im = Image.fromarray(image)
    im.thumbnail(PANEL, Image.Resampling.LANCZOS)
    return np.asarray(im)


_engine: LocalEngine | None = None
_analyser: PersonAnalyser | None = None
_products: dict[Path, np.ndarray] = {}


def _tools() -> tuple[LocalEngine, PersonAnalyser]:
    global _engine, _analyser
    if _engine is None:
        _engine, _analyser = LocalEngine(), PersonAnalyser()
    return _engine, _analyser  # type: ignore[return-value]


def _product_lab(path: Path) -> np.ndarray:
    if path not in _products:
        product = decode(path.read_bytes())
        _products[path] = to_lab(product)[garment_pixels(product=product)]
    return _products[path]


def _try_on(engine: LocalEngine, *, person: bytes, garment: bytes, category: str) -> tuple[np.ndarray | None, dict]:
    request = TryOnRequest(person_image=person, garment_images=(garment,), category=Category(category))
    started = time.perf_counter()
    try:
        result = engine.run(request)
    except EngineError as exc:
        return None, {"refused": str(exc.code), "message": exc.message}
    return decode(result.image), {
        "refused": None,
        "message": "",
        "ms": round((time.perf_counter() - started) * 1000),
        "diagnostics": result.diagnostics,
    }


def run_person(job: tuple[Path, list[tuple[Path, str]], Path]) -> list[tuple[dict, list]]:
    """One person against its garments (the person is analysed once): records and contact-sheet thumbnails."""
    person_path, garments, out = job
    engine, analyser = _tools()
    person_bytes = person_path.read_bytes()
    person = decode(person_bytes)
    analysis = analyser.analyse(image=person)
    rows = []
    for garment_path, category in garments:
        garment_bytes = garment_path.read_bytes()
        result, record = _try_on(engine, person=person_bytes, garment=garment_bytes, category=category)
        record.update(person=person_path.stem, garment=garment_path.stem, category=category, face=analysis.face_source)
        record.update(measures={}, flags=[])
        panels = [thumb(person), thumb(decode(garment_bytes)), None, None]
        if result is not None:
            if result.shape != person.shape:
                result = np.asarray(Image.fromarray(result).resize((person.shape[1], person.shape[0])))
            values, masks = measure(
                person=person,
                result=result,
                analysis=analysis,
                category=category,
                product_lab=_product_lab(garment_path),
                jpeg_quality=JPEG_QUALITY,
            )
            record.update(measures=values, flags=flags(values))
            name = f"{person_path.stem}__{garment_path.stem}.jpg"
            Image.fromarray(result).save(out / "results" / name, quality=92)
            record["result"] = f"results/{name}"
            panels[2:] = [thumb(result), thumb(overlay(result=result, masks=masks, face_box=analysis.face_box))]
        status = record["refused"] or ("flagged " + ",".join(record["flags"]) if record["flags"] else "clean")
        print(f"  {person_path.stem} x {garment_path.stem} ({category}): {status}", file=sys.stderr, flush=True)
        rows.append((record, panels))
    return rows


def run_paired(folder: Path, out: Path) -> tuple[dict, list]:
    engine, _ = _tools()
    persons = images_in(folder / "person")
    records, rows = [], []
    for pair_id, truth_path in persons.items():
        agnostic_bytes = (folder / "agnostic" / f"{pair_id}.jpg").read_bytes()
        garment_bytes = (folder / "garment" / f"{pair_id}.jpg").read_bytes()
        truth, agnostic = decode(truth_path.read_bytes()), decode(agnostic_bytes)
        result, record = _try_on(engine, person=agnostic_bytes, garment=garment_bytes, category="tops")
        record.update(id=pair_id, floor=round(paired_ssim(result=agnostic, truth=truth), 4), ssim=None)
        if result is not None:
            record["ssim"] = round(paired_ssim(result=result, truth=truth), 4)
            Image.fromarray(result).save(out / "results" / f"paired_{pair_id}.jpg", quality=92)
        print(f"  paired {pair_id}: ssim={record['ssim']} floor={record['floor']}", file=sys.stderr, flush=True)
        records.append(record)
        caption = {
            "person": pair_id, "garment": "its garment", "category": "paired", "flags": [],
            "refused": record["refused"], "message": record["message"],
            "measures": {"ssim": record["ssim"], "floor": record["floor"]},
        }  # fmt: skip
        rows.append((caption, [thumb(agnostic), thumb(decode(garment_bytes)), thumb(result), thumb(truth)]))
    scored = [r for r in records if r["ssim"] is not None]
    summary = {
        "n": len(records),
        "refused": sum(1 for r in records if r["refused"] is not None),
        # A refusal scores as the agnostic input returned unchanged: refusing everything cannot beat the floor.
        "ssim_mean": round(statistics.mean(r["ssim"] if r["ssim"] is not None else r["floor"] for r in records), 4)
        if records
        else None,
        "ssim_mean_rendered": round(statistics.mean(r["ssim"] for r in scored), 4) if scored else None,
        "floor_mean": round(statistics.mean(r["floor"] for r in records), 4) if records else None,
        "pairs": records,
    }
    return summary, rows


def plan(args: argparse.Namespace) -> list[tuple[Path, list[tuple[Path, str]], Path]]:
    folder = args.dir / "ootd"
    persons = images_in(folder / "person")
    if args.persons:
        if args.persons.isdigit():
            persons = dict(spread(list(persons.items()), int(args.persons)))
        else:
            wanted = args.persons.split(",")
            missing = [p for p in wanted if p not in persons]
            if missing:
                raise SystemExit(f"unknown person ids: {', '.join(missing)}")
            persons = {p: persons[p] for p in wanted}
    garments = images_in(folder / "garment")
    categories = garment_categories(args.dir / "README.md")
    chosen = args.category.split(",") if args.category else list(CATEGORIES)
    picked: list[tuple[Path, str]] = []
    for category in chosen:
        ids = sorted(g for g, c in categories.items() if c == category and g in garments)
        picked += [(garments[g], category) for g in spread(ids, args.garments_per_category)]
    jobs, total = [], 0
    for person_path in persons.values():
        mine = picked
        if args.limit is not None:
            mine = picked[: max(0, args.limit - total)]
        if mine:
            jobs.append((person_path, mine, args.out))
            total += len(mine)
    return jobs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=ROOT.parent / "shared" / "eval", help="the photos' folder")
    parser.add_argument("--out", type=Path, default=Path("/tmp/quality"), help="outside the project")
    parser.add_argument("--limit", type=int, default=None, help="at most this many person x garment pairs")
    parser.add_argument("--category", default="", help="tops, bottoms or dresses (comma-separated); all by default")
    parser.add_argument("--persons", default="", help="a count (spread over the folder) or comma-separated ids")
    parser.add_argument("--garments-per-category", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (each loads its own models)")
    parser.add_argument("--no-paired", action="store_true", help="skip the paired SSIM")
    parser.add_argument("--paired-only", action="store_true", help="only the paired SSIM")
    args = parser.parse_args(argv)
    args.dir, args.out = args.dir.resolve(), args.out.resolve()
    if args.out == ROOT or ROOT in args.out.parents:
        parser.error("--out must be outside the project: the research photos and results must never land in it")
    if not (args.dir / "ootd" / "person").is_dir():
        parser.error(f"{args.dir} has no ootd/person folder")
    (args.out / "results").mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    jobs = [] if args.paired_only else plan(args)
    print(f"quality: {sum(len(j[1]) for j in jobs)} try-ons, {len(jobs)} persons, jobs={args.jobs}", file=sys.stderr)
    rows: list[tuple[dict, list]] = []
    if args.jobs > 1:
        # spawn: MediaPipe graphs hold threads, which fork does not copy safely.
        with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
            for person_rows in pool.imap(run_person, jobs):
                rows += person_rows
    else:
        for job in jobs:
            rows += run_person(job)
    records = [record for record, _ in rows]
    summary = summarise(records)
    paired, paired_rows = (
        (None, [])
        if args.no_paired or not (args.dir / "paired").is_dir()
        else run_paired(args.dir / "paired", args.out)
    )
    sheets = []
    for category in CATEGORIES:
        mine = [row for row in rows if row[0]["category"] == category]
        sheets += contact_sheets(rows=mine, out=args.out, stem=f"sheet_{category}")
    sheets += contact_sheets(rows=paired_rows, out=args.out, stem="sheet_paired")
    report = {
        "engine": {"name": LocalEngine.name, "version": LocalEngine.version},
        "dir": str(args.dir),
        "arguments": {k: str(v) for k, v in vars(args).items()},
        "thresholds": {name: {"direction": d, "limit": v} for name, (d, v) in THRESHOLDS.items()},
        "summary": summary,
        "paired": paired,
        "results": records,
        "sheets": [p.name for p in sheets],
        "seconds": round(time.monotonic() - started, 1),
    }
    (args.out / "report.json").write_text(json.dumps(report, indent=2, default=str))
    if records:
        print(table(summary))
    if paired is not None:
        print(
            f"paired SSIM (VITON-HD protocol, {paired['n']} pairs, {paired['refused']} refused): "
            f"{paired['ssim_mean']} vs agnostic floor {paired['floor_mean']} "
            f"(rendered only: {paired['ssim_mean_rendered']})"
        )
    print(f"report: {args.out / 'report.json'}; {len(sheets)} contact sheets in {args.out}; {report['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
