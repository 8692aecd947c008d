"""What one evidence image costs a worker: milliseconds and resident memory, before and after.

"before" is the image check as it was (commit dfb80a0: a 40 MP cap, full decode, re-encode with
optimize=True); "after" is core.uploads.reencode_image. Every case runs in a fresh process so
its peak memory (ru_maxrss growth over a warmed-up process) is its own.
Usage: python bench/uploads.py [--repeat 3]
"""

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_cases(folder: Path) -> dict[str, Path]:
    from PIL import Image

    def gradient_with_grain(size: tuple[int, int]) -> Image.Image:
        # Smooth like a real photo, with grain so the JPEG is photo-sized, not a flat fill.
        base = Image.linear_gradient("L").resize(size).convert("RGB")
        grain = Image.effect_noise((size[0] // 4, size[1] // 4), 40).resize(size).convert("RGB")
        return Image.blend(base, grain, 0.35)

    cases: dict[str, tuple[str, Image.Image, dict[str, Any]]] = {
        "flat PNG 40 MP (the attack)": ("PNG", Image.new("RGB", (8000, 5000), (250, 250, 250)), {"optimize": True}),
        "PNG 20 MP palette, at the cap": ("PNG", gradient_with_grain((5000, 4000)).quantize(64), {}),
        "PNG 20 MP colour, at the cap": ("PNG", Image.linear_gradient("L").resize((5000, 4000)).convert("RGB"), {}),
        "JPEG 12 MP phone photo": ("JPEG", gradient_with_grain((4000, 3000)), {"quality": 85}),
        "JPEG 50 MP phone photo": ("JPEG", gradient_with_grain((8160, 6120)), {"quality": 80}),
    }
    paths: dict[str, Path] = {}
    for name, (image_format, image, options) in cases.items():
        path = folder / f"{len(paths)}.{image_format.lower()}"
        image.save(path, format=image_format, **options)
        paths[name] = path
    return paths


def before(data: bytes) -> None:
    """The check as it was in dfb80a0, condensed: header cap 40 MP, full decode, optimize=True."""
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data), formats=["JPEG", "PNG", "WEBP"]) as opened:
        if opened.width * opened.height > 40_000_000:
            raise ValueError("too many pixels")
        source_format = str(opened.format)
        opened.load()
        image = ImageOps.exif_transpose(opened)
    options: dict[str, dict[str, Any]] = {
        "JPEG": {"quality": 88, "optimize": True},
        "PNG": {"optimize": True},
        "WEBP": {"quality": 85},
    }
    image.save(io.BytesIO(), format=source_format, **options[source_format])


def after(data: bytes) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from core.uploads import reencode_image

    reencode_image(SimpleUploadedFile("x", data), max_bytes=len(data) + 1)


def measure_one(variant: str, path: str) -> None:
    """Child process: warm up, then time one check and report the peak memory it added."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpcenter.settings")
    os.environ.setdefault("DJANGO_DEBUG", "1")
    import django

    django.setup()
    from PIL import Image  # noqa: F401 - imported before the baseline is taken

    check = before if variant == "before" else after
    data = Path(path).read_bytes()
    baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    outcome = "accepted"
    try:
        check(data)
    except Exception as error:  # noqa: BLE001 - a refusal is an outcome to report
        outcome = "refused: " + str(getattr(error, "messages", [error])[0])[:60]
    elapsed_ms = (time.perf_counter() - started) * 1000
    peak_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - baseline_kb) / 1024
    print(json.dumps({"ms": elapsed_ms, "mb": peak_mb, "outcome": outcome}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("VARIANT", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--make-cases", metavar="FOLDER", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        measure_one(*args.child)
        return
    if args.make_cases:
        print(json.dumps({name: str(path) for name, path in make_cases(Path(args.make_cases)).items()}))
        return
    with tempfile.TemporaryDirectory() as folder:
        # Made in another process: Linux carries a process's peak memory over fork and exec, so
        # children of a parent that held the big images would all start from its peak.
        made = subprocess.run(
            [sys.executable, __file__, "--make-cases", folder], capture_output=True, text=True, check=True, cwd=ROOT
        )
        case_paths = {name: Path(path) for name, path in json.loads(made.stdout).items()}
        print(f"{'case':30} {'size':>8} | {'before ms':>9} {'MB':>5} {'':9} | {'after ms':>8} {'MB':>5} {'':9}")
        for name, path in case_paths.items():
            figures = {}
            for variant in ("before", "after"):
                runs = [
                    json.loads(
                        subprocess.run(
                            [sys.executable, __file__, "--child", variant, str(path)],
                            capture_output=True,
                            text=True,
                            check=True,
                            cwd=ROOT,
                        )
                        .stdout.strip()
                        .splitlines()[-1]
                    )
                    for _ in range(args.repeat)
                ]
                figures[variant] = min(runs, key=lambda run: run["ms"])
            size_kb = path.stat().st_size / 1024
            print(
                f"{name:30} {size_kb:>6.0f}KB | {figures['before']['ms']:>9.0f} {figures['before']['mb']:>5.0f} "
                f"{figures['before']['outcome'][:9]:9} | {figures['after']['ms']:>8.0f} {figures['after']['mb']:>5.0f} "
                f"{figures['after']['outcome'][:9]:9}"
            )
        print("ms: fastest of the runs; MB: growth of the process's peak resident memory during the check.")


if __name__ == "__main__":
    main()
