"""Local engine: time per 768 x 1024 try-on against the floor of merely decoding and re-encoding the images.

Run: .venv/bin/python bench/engine.py [--runs N]

The person is matplotlib's Grace Hopper sample scaled and centre-cropped to 768 x 1024, the garment the
synthetic t-shirt, both as JPEG bytes the way the worker hands them to the engine. The floor is Pillow decoding
both images and encoding one JPEG of the person's size, measured in the same process; the ratio is what to
compare across machines. Peak RSS is the whole process's (models included).
"""

from __future__ import annotations

import argparse
import io
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engines.base import Category, TryOnRequest  # noqa: E402
from engines.local import LocalEngine  # noqa: E402
from vision.synthetic import synthetic_tshirt  # noqa: E402

WIDTH, HEIGHT = 768, 1024


def person_jpeg() -> bytes:
    import matplotlib.cbook

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as handle:
        image = Image.open(handle).convert("RGB")
    scale = max(WIDTH / image.width, HEIGHT / image.height)
    image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    left, top = (image.width - WIDTH) // 2, (image.height - HEIGHT) // 2
    return jpeg(image.crop((left, top, left + WIDTH, top + HEIGHT)))


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def samples_ms(step: Callable[[], object], *, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def median_ms(step: Callable[[], object], *, runs: int) -> float:
    return statistics.median(samples_ms(step, runs=runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=25)
    runs = max(20, parser.parse_args().runs)
    person = person_jpeg()
    garment = jpeg(Image.fromarray(synthetic_tshirt(pattern="logo").image))
    request = TryOnRequest(person_image=person, garment_images=(garment,), category=Category.TOPS)
    engine = LocalEngine()

    def floor() -> bytes:
        decoded = np.asarray(Image.open(io.BytesIO(person)).convert("RGB"))
        Image.open(io.BytesIO(garment)).convert("RGB").load()
        return jpeg(Image.fromarray(decoded))

    for _ in range(2):  # model load and first-call allocations are not what a warm worker pays
        engine.run(request)
        floor()
    floor_ms = median_ms(floor, runs=runs)
    engine_samples = sorted(samples_ms(lambda: engine.run(request), runs=runs))
    engine_ms = statistics.median(engine_samples)
    p90_ms = engine_samples[min(len(engine_samples) - 1, round(0.9 * (len(engine_samples) - 1)))]
    stages = engine.run(request).timings_ms
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    print(f"engine.local.runs={runs}")
    print(f"engine.local.size={WIDTH}x{HEIGHT}")
    print(f"engine.local.floor_median_ms={floor_ms:.1f}")
    print(f"engine.local.median_ms={engine_ms:.1f}")
    print(f"engine.local.p90_ms={p90_ms:.1f}")
    print(f"engine.local.ratio_to_floor={engine_ms / floor_ms:.2f}")
    print(f"engine.local.peak_rss_mb={peak_mb:.0f}")
    print("engine.local.stages_ms=" + ",".join(f"{k}:{v:.1f}" for k, v in stages.items()))


if __name__ == "__main__":
    main()
