"""The HTML report opens in a real browser: headless Chromium renders plots and the table."""

from __future__ import annotations

import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftline.drift import compare
from driftline.drift._html import CUR_COLOR, REF_COLOR

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file(), reason="no browser: /usr/bin/chromium is not installed"
)


def _chromium(profile_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile_dir}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def _read_png(data: bytes) -> np.ndarray:
    """Decode an 8-bit RGB or RGBA, non-interlaced PNG into a (height, width, channels) array."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    pos, idat, header = 8, [], b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and color in (2, 6) and interlace == 0, (depth, color, interlace)
    bpp = 3 if color == 2 else 4
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), dtype=np.uint8)
    rows = raw.reshape(height, 1 + width * bpp)
    out = np.zeros((height, width * bpp), dtype=np.uint8)
    previous = np.zeros(width * bpp, dtype=np.int64)
    for y in range(height):
        line = _unfilter(int(rows[y, 0]), rows[y, 1:].astype(np.int64), previous, bpp)
        out[y] = line
        previous = line
    return out.reshape(height, width, bpp)


def _unfilter(kind: int, line: np.ndarray, up: np.ndarray, bpp: int) -> np.ndarray:
    if kind == 0:
        return line
    if kind == 2:
        return (line + up) % 256
    if kind == 1:  # Sub: a running sum per channel, modulo 256
        return (np.cumsum(line.reshape(-1, bpp), axis=0) % 256).ravel()
    out = line.copy()  # Average and Paeth depend on the pixel just decoded: byte by byte
    for x in range(len(out)):
        left = int(out[x - bpp]) if x >= bpp else 0
        corner = int(up[x - bpp]) if x >= bpp else 0
        if kind == 3:
            out[x] = (out[x] + (left + int(up[x])) // 2) % 256
        else:
            p = left + int(up[x]) - corner
            pa, pb, pc = abs(p - left), abs(p - int(up[x])), abs(p - corner)
            pick = left if pa <= pb and pa <= pc else (int(up[x]) if pb <= pc else corner)
            out[x] = (out[x] + pick) % 256
    return out


def _pixels_of(image: np.ndarray, color: str) -> int:
    rgb = tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))
    return int(np.count_nonzero(np.all(image[:, :, :3] == rgb, axis=2)))


@pytest.mark.slow
def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 5_000
    reference = pd.DataFrame(
        {
            "income": rng.lognormal(10, 0.5, n),
            "age": rng.normal(40, 12, n),
            "city": rng.choice(["north", "south", "east", "west"], n, p=[0.4, 0.3, 0.2, 0.1]),
        }
    )
    current = pd.DataFrame(
        {
            "income": rng.lognormal(10.3, 0.5, n),
            "age": rng.normal(40, 12, n),
            "city": rng.choice(["north", "south", "east", "new"], n, p=[0.2, 0.3, 0.3, 0.2]),
        }
    )
    report = compare(reference, current)
    page = report.to_html(tmp_path / "report.html")
    shot = tmp_path / "report.png"
    done = _chromium(
        tmp_path / "profile",
        f"--screenshot={shot}",
        "--window-size=1280,2000",
        page.resolve().as_uri(),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    image = _read_png(shot.read_bytes())
    assert image.shape[:2] == (2000, 1280)
    gray = image[:, :, :3].astype(np.int64).sum(axis=2)
    assert gray.std() > 10.0  # not one flat colour
    # both sides of every histogram are drawn: bars in the reference and current colours
    assert _pixels_of(image, REF_COLOR) > 2_000
    assert _pixels_of(image, CUR_COLOR) > 2_000

    dom = _chromium(tmp_path / "profile", "--dump-dom", page.resolve().as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    text = dom.stdout
    assert "<table>" in text and "</table>" in text
    for name in ("income", "age", "city"):
        assert f'href="#f-{name}">{name}</a>' in text  # one table row per feature
    assert "DRIFT DETECTED" in text
    assert ">north</text>" in text  # categories are named under their bars
