"""Short reads that libsndfile does not report: a file cut short, or with pages lost, decodes
as a shorter file without an error. These checks find them from what each format declares.

* PCM containers other than WAV/AIFF/RF64 (whose data size :mod:`analyzer.io.source` reads
  itself): libsndfile shortens the frame count to the bytes present and says so only in its log
  (``SFC_GET_LOG_INFO``, soundfile's ``extra_info``): a size ``N (should be M)`` with N > M
  (W64, AU, VOC, 8SVX, WVE), "Seems to be a truncated file", a frame count that "does not
  match"; a header's own ``Frames : N`` (AVR, MPC 2000) against the frames it reports; NIST
  SPHERE's ``sample_count`` (NIST speech file format, its text header), read here.
* Ogg (Vorbis, Opus, FLAC in Ogg): the stream's last page must carry the end-of-stream flag
  (RFC 3533, section 6: header_type 0x04); libvorbisfile and libopusfile skip pages whose CRC
  fails, so every page's CRC is checked (a damaged first or last page leaves the frame count
  consistent), and fewer frames decoded than the last granule position declares means lost
  pages.
* MP3: a Xing/Info (or VBRI) header states the frame count: fewer decoded means truncation.
  Without one libsndfile estimates the length from the bit rate, so nothing is compared.

* PAF (Ensoniq PARIS): the header holds no length; 24-bit files come in blocks and libsndfile
  logs a cut one ("seems to be truncated"); 8- and 16-bit data after the 2048-byte header must
  be whole frames, so a file ending inside a frame was cut.
* A file libsndfile cannot open at all that starts as Ogg and has no end-of-stream page (an
  Opus file cut in half fails while libopusfile looks for its last page) is called truncated,
  not "unsupported".

Not detectable: a PAF, MAT or XI file cut at a frame boundary (their headers hold no length).
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import zlib
from collections.abc import Iterator

#: Where MP3 encoders put the Xing/Info/VBRI header: the first frame, after any ID3v2 tag.
_XING_SEARCH_BYTES = 1 << 16
_SHOULD_BE = re.compile(r"^\s*(\w[\w ]*?)\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)
_WVE_LENGTH = re.compile(r"Data length (\d+) should be (\d+)")
_FRAMES = re.compile(r"^\s*Frames\s*:\s*(\d+)\s*$", re.MULTILINE)
_BAD_LOG = (
    "truncated file", "seems to be truncated", "does not match", "not equal to frame count",
    "> file length",
)  # fmt: skip
_NIST_COUNT = re.compile(rb"^sample_count -i (\d+)\s*$", re.MULTILINE)
#: One MP3 frame (MPEG-1 layer III): the tolerance of the Xing count against what is decoded.
MP3_FRAME_SAMPLES = 1152
_stderr_lock = threading.Lock()


def log_shortfall(log: str, frames: int) -> str | None:
    """What libsndfile's log says is missing (None: nothing): a declared size larger than the
    file holds, a truncation note, or a header frame count above ``frames``."""
    for field, declared, present in _SHOULD_BE.findall(log):
        if int(declared) > int(present):
            return (
                f"the header declares {declared} bytes ({field.strip()}) "
                f"but the file holds {present}"
            )
    for declared, present in _WVE_LENGTH.findall(log):
        if int(declared) > int(present):
            return f"the header declares {declared} frames but the file holds {present}"
    lowered = log.lower()
    for phrase in _BAD_LOG:
        if phrase in lowered:
            line = next(ln for ln in log.splitlines() if phrase in ln.lower())
            return f"libsndfile: {line.strip(' *')}"
    for declared in _FRAMES.findall(log):
        if int(declared) > frames:
            return f"the header declares {declared} frames but the file holds {frames}"
    return None


def nist_shortfall(path: str | os.PathLike[str], frames: int) -> str | None:
    """NIST SPHERE: ``sample_count`` (frames) of the text header against ``frames``."""
    with open(path, "rb") as fh:
        head = fh.read(1024)
    match = _NIST_COUNT.search(head) if head.startswith(b"NIST_1A") else None
    if match and int(match.group(1)) > frames:
        return f"the header declares {int(match.group(1))} frames but the file holds {frames}"
    return None


#: PAF: header size and bytes per sample of the subtypes stored frame by frame.
_PAF_HEADER_BYTES = 2048
_PAF_SAMPLE_BYTES = {"PCM_16": 2, "PCM_S8": 1}


def paf_partial_frame(path: str | os.PathLike[str], subtype: str, channels: int) -> str | None:
    """A PAF whose 8- or 16-bit data does not end on a frame boundary: the file was cut."""
    width = _PAF_SAMPLE_BYTES.get(subtype)
    if width is None or channels < 1:
        return None
    data = os.path.getsize(path) - _PAF_HEADER_BYTES
    frame = width * channels
    if data > 0 and data % frame:
        return f"the audio ends inside a frame ({data % frame} of its {frame} bytes present)"
    return None


def unopenable_cause(path: str | os.PathLike[str]) -> str | None:
    """Why a file libsndfile refused is truncated or corrupt, when it is (``truncated: ...``,
    ``corrupt: ...``): an Ogg stream (``OggS`` at the start) whose last page is not the end of
    the stream, or with a damaged page. None: another cause."""
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
        if magic == b"OggS" and not ogg_ends_cleanly(path):
            return "truncated: the last Ogg page is not the end of the stream"
        if magic == b"OggS" and (damage := ogg_damaged_page(path)):
            return damage
    except OSError:
        return None
    return None


#: Each byte with its bits in reverse order: Ogg's CRC is the unreflected CRC-32, zlib's the
#: reflected one, and reversing the input bytes and the result turns one into the other.
_REVERSED_BITS = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))
_OGG_HEADER_BYTES = 27


def ogg_crc(page: bytes) -> int:
    """The CRC of an Ogg page (RFC 3533, section 6: CRC-32, generator 0x04C11DB7, initial value
    0, no final XOR, not reflected), computed over ``page`` with its CRC field zeroed, by zlib:
    ``crc32(x, 0xFFFFFFFF) ^ 0xFFFFFFFF`` is the reflected CRC with initial value 0 and no
    final XOR, and bit-reversing the input bytes and the 32-bit result unreflects it."""
    raw = zlib.crc32(page.translate(_REVERSED_BITS), 0xFFFFFFFF) ^ 0xFFFFFFFF
    return int(f"{raw:032b}"[::-1], 2)


def ogg_damaged_page(path: str | os.PathLike[str]) -> str | None:
    """What is wrong with the first bad Ogg page (RFC 3533: pages follow each other, each with
    its own CRC), as ``corrupt: ...`` or ``truncated or corrupt: ...``; None when every page is
    intact. libvorbisfile and libopusfile skip a damaged page without an error, and when it is
    the first or the last one the frame count shows nothing. A page that declares more bytes
    than the file holds is the end cut off inside it, or its segment table damaged. A file not
    starting with a page is not judged."""
    offset = 0
    with open(path, "rb") as fh:
        for number in range(1 << 40):
            head = fh.read(_OGG_HEADER_BYTES)
            if not head:
                return None
            if head[:4] != b"OggS" or len(head) < _OGG_HEADER_BYTES:
                if offset == 0:
                    return None
                return f"corrupt: no whole Ogg page where one should start (byte {offset})"
            table = fh.read(head[26])
            body = fh.read(sum(table))
            if len(table) < head[26] or len(body) < sum(table):
                need = len(head) + head[26] + sum(table)
                have = len(head) + len(table) + len(body)
                return (
                    f"truncated or corrupt: Ogg page {number} (byte {offset}) declares {need} "
                    f"bytes but the file holds {have}"
                )
            page = head[:22] + b"\0\0\0\0" + head[26:] + table + body
            if ogg_crc(page) != int.from_bytes(head[22:26], "little"):
                return f"corrupt: Ogg page {number} (byte {offset}) fails its checksum"
            offset += len(head) + len(table) + len(body)
    return None


def ogg_ends_cleanly(path: str | os.PathLike[str]) -> bool:
    """Whether the last Ogg page of the file has the end-of-stream flag (RFC 3533 section 6).
    A file cut short ends inside or after a page without it."""
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        fh.seek(max(size - 65536, 0))  # a page is at most 65,307 bytes
        tail = fh.read()
    at = tail.rfind(b"OggS")
    return at >= 0 and at + 6 <= len(tail) and tail[at + 4] == 0 and bool(tail[at + 5] & 0x04)


def has_length_header(path: str | os.PathLike[str]) -> bool:
    """Whether an MP3 states its frame count (a Xing/Info or VBRI header in its first bytes)."""
    with open(path, "rb") as fh:
        head = fh.read(_XING_SEARCH_BYTES)
    return any(tag in head for tag in (b"Xing", b"Info", b"VBRI"))


@contextlib.contextmanager
def quiet_decoder() -> Iterator[None]:
    """Standard error (file descriptor 2) pointed at /dev/null for the duration: libmpg123
    prints its warnings there itself (``Warning: Xing stream size off by more than 1%``), which
    would reach the user's terminal raw; the decoder's errors still come back as exceptions."""
    with _stderr_lock:
        try:
            saved = os.dup(2)
            null = os.open(os.devnull, os.O_WRONLY)
        except OSError:  # no descriptor 2 or no /dev/null: nothing to protect
            yield
            return
        try:
            os.dup2(null, 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(null)


__all__ = [
    "has_length_header",
    "log_shortfall",
    "nist_shortfall",
    "ogg_crc",
    "ogg_damaged_page",
    "ogg_ends_cleanly",
    "paf_partial_frame",
    "quiet_decoder",
    "unopenable_cause",
]
