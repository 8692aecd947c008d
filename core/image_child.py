"""Decode, shrink and re-encode one uploaded image, in a child process of the web worker.

core.uploads reads the image's header in the worker (a few hundred bytes, no pixels) and runs
this file as a script with `python -I`, an empty environment and the file on stdin. The limits
below are set before the first byte is read, so a hostile file, or a bug in a C decoder, ends
this process only: the worker waits for it without decoding anything itself.

Nothing here imports Django, so the child starts with Pillow alone, a fraction of Django's start-up.

Answer on stdout, exit status 0: one JSON line {"format", "width", "height"}, then the new file.
Exit status 2: not a JPEG, PNG or WebP Pillow can read, or a damaged one; 3: more pixels than
the caps (the worker checks them first, so only a header read differently would get here); 4: out
of memory. Past the CPU limit the kernel ends the process (SIGXCPU).
"""

import io
import json
import math
import resource
import sys
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps

FORMATS = ("JPEG", "PNG", "WEBP")
SAVE_OPTIONS: dict[str, dict[str, Any]] = {
    # No optimize=True: it doubles the encoding time for a few per cent of bytes.
    "JPEG": {"quality": 85},
    # Level 1 writes a 20 MP PNG several times faster than the default 6, for somewhat larger files.
    "PNG": {"compress_level": 1},
    "WEBP": {"quality": 85, "method": 4},
}
EXIT_INVALID = 2
EXIT_TOO_LARGE = 3
EXIT_OUT_OF_MEMORY = 4


@dataclass(frozen=True)
class DecodePlan:
    """How an image of this header size is decoded and by how much it is then shrunk."""

    decoded_width: int
    decoded_height: int
    # The integer factor Image.reduce() divides the decoded size by: 1 keeps it.
    reduce_by: int

    @property
    def decoded_pixels(self) -> int:
        return self.decoded_width * self.decoded_height


def shrink_factor(width: int, height: int, long_side: int) -> int:
    """The smallest integer factor that brings the long side to `long_side` or less."""
    return max(1, math.ceil(max(width, height) / long_side))


def plan_decode(opened: Image.Image, *, long_side: int) -> DecodePlan:
    """Ask a JPEG to decode at 1/2, 1/4 or 1/8 scale when it is larger than needed (its DCT draft
    mode: the pixels that would be thrown away are never made). PNG and WebP have no such mode and
    are decoded whole. Only the header has been read: draft() sets the decoder up, decodes nothing."""
    factor = shrink_factor(opened.width, opened.height, long_side)
    if opened.format == "JPEG" and factor > 1:
        # draft() picks the smallest scale that still gives at least the requested size.
        opened.draft("RGB", (math.ceil(opened.width / factor), math.ceil(opened.height / factor)))
    return DecodePlan(opened.width, opened.height, shrink_factor(opened.width, opened.height, long_side))


def header_refused(image_format: str, width: int, height: int, *, max_jpeg: int, max_lossless: int) -> bool:
    return width * height > (max_jpeg if image_format == "JPEG" else max_lossless)


def reencode(data: bytes, *, max_jpeg: int, max_lossless: int, long_side: int) -> tuple[dict[str, Any], bytes]:
    """The image written again from its pixels alone (no metadata), at most `long_side` long."""
    with Image.open(io.BytesIO(data), formats=FORMATS) as opened:
        image_format = str(opened.format)
        if header_refused(image_format, opened.width, opened.height, max_jpeg=max_jpeg, max_lossless=max_lossless):
            raise OverflowError
        plan = plan_decode(opened, long_side=long_side)
        opened.load()
        image: Image.Image = opened
        if image_format == "JPEG" and image.mode not in ("RGB", "L"):
            image = image.convert("RGB")  # CMYK and YCCK scans
        if image_format != "JPEG" and image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
            image = image.convert("RGBA")  # 16-bit, 1-bit and the rarer modes
        if plan.reduce_by > 1:
            if image.mode == "P":
                # A palette image keeps its palette: nearest neighbour, no full-colour copy.
                size = (math.ceil(image.width / plan.reduce_by), math.ceil(image.height / plan.reduce_by))
                image = image.resize(size, Image.Resampling.NEAREST)
            else:
                # Each output pixel is the mean of a reduce_by x reduce_by box: one pass over the
                # pixels, several times cheaper than a Lanczos resize of the same image.
                image = image.reduce(plan.reduce_by)
        # Turned upright after shrinking, so the turn moves the small image, not the decoded one.
        ImageOps.exif_transpose(image, in_place=True)
        output = io.BytesIO()
        # Saved without exif=: the GPS position and the camera data do not survive.
        image.save(output, format=image_format, **SAVE_OPTIONS[image_format])
    return {"format": image_format, "width": image.width, "height": image.height}, output.getvalue()


def limit_this_process(*, memory_bytes: int, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    # Past the soft limit the kernel sends SIGXCPU, which ends the process; the hard limit a
    # second later kills it should anything catch that.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main(argv: list[str]) -> int:
    max_jpeg, max_lossless, long_side, memory_bytes, cpu_seconds = (int(value) for value in argv)
    limit_this_process(memory_bytes=memory_bytes, cpu_seconds=cpu_seconds)
    # The worker checked the pixel count already; Pillow's own guard must not refuse less.
    Image.MAX_IMAGE_PIXELS = max(max_jpeg, max_lossless)
    data = sys.stdin.buffer.read()
    try:
        header, body = reencode(data, max_jpeg=max_jpeg, max_lossless=max_lossless, long_side=long_side)
    except (OverflowError, Image.DecompressionBombError):
        return EXIT_TOO_LARGE
    except MemoryError:  # the address-space limit: a costly file, not a bug
        return EXIT_OUT_OF_MEMORY
    except Exception:  # noqa: BLE001 - Pillow raises many kinds for broken or foreign files
        return EXIT_INVALID
    sys.stdout.buffer.write(json.dumps(header).encode() + b"\n" + body)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
