"""User device files: a :class:`~analyzer.playback.device_models.Device` to and from the plain
dict shape of a JSON or TOML file, validated with one-line messages, and the built-in devices
merged with a user file's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from analyzer.errors import UsageError
from analyzer.playback.device_models import (
    BUILTIN_DEVICES,
    CHANNEL_MODES,
    SECTION_NAMES,
    SECTION_TYPES,
    Breakpoints,
    Device,
    LevelBehaviour,
    Section,
)
from analyzer.untrusted import parse_json, parse_toml

# --------------------------------------------------------------------------------------------
# User devices: dict <-> Device, JSON/TOML files
# --------------------------------------------------------------------------------------------


def device_to_dict(device: Device) -> dict[str, Any]:
    """Plain JSON-able dict of ``device`` in the user-file shape (see :func:`load_devices`)."""
    out: dict[str, Any] = {}
    for name in Device.__dataclass_fields__:
        value = getattr(device, name)
        if name == "filters":
            value = [_section_to_dict(s) for s in value]
        elif name == "level" and value is not None:
            value = {k: _plain(getattr(value, k)) for k in LevelBehaviour.__dataclass_fields__}
        else:
            value = _plain(value)
        out[name] = value
    return out


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _section_to_dict(section: Section) -> dict[str, Any]:
    d: dict[str, Any] = {"type": SECTION_NAMES[type(section)]}
    for k in type(section).__dataclass_fields__:
        d[k] = _plain(getattr(section, k))
    return d


_REQUIRED = ("name", "channels_mode", "filters")
_NUMBER_FIELDS = {
    "width",
    "balance_db",
    "right_delay_ms",
    "nominal_level_db_spl",
    "max_level_db_spl",
    "mono_below_hz",
    "normalise_hz",
}


#: Valid range of every number of a device file, by field name (inclusive). Wide enough for
#: any real device (hearing spans 20 Hz-20 kHz; a car's driver seat is ~1-2 ms late; sound
#: levels 0-150 dB SPL), narrow enough that a typo cannot ask for a 358 GiB delay line or a
#: filter at 1e-300 Hz.
_RANGES: dict[str, tuple[float, float]] = {
    "hz": (1.0, 100_000.0),
    "gain_db": (-100.0, 100.0),
    "slope_db_per_octave": (-60.0, 60.0),
    "q": (0.01, 100.0),
    "width": (0.0, 1.0),
    "balance_db": (-40.0, 40.0),
    "right_delay_ms": (0.0, 100.0),
    "db_spl": (0.0, 150.0),
    "ratio": (1.0, 100.0),
    "ms": (0.01, 10_000.0),
}


def _range_of(field: str) -> tuple[float, float]:
    if field in _RANGES:
        return _RANGES[field]
    for suffix in ("hz", "db_spl", "gain_db", "ms"):
        if field.endswith(suffix):
            return _RANGES[suffix]
    return _RANGES["gain_db"] if field.endswith("_db") else (-1e6, 1e6)


def _num(value: Any, what: str, *, positive: bool = False) -> float:
    """``value`` as a float in the range of its field (the last part of ``what``)."""
    field = what.rsplit(".", 1)[-1]
    lo, hi = _range_of(field)
    if positive:
        lo = max(lo, math.ulp(0.0))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{what} must be a number")
    if not (math.isfinite(value) and lo <= value <= hi):
        raise ValueError(f"{what} must be between {lo:g} and {hi:g} (got {value:.6g})")
    return float(value)


def _section_from_dict(d: Any, where: str) -> Section:
    if not isinstance(d, Mapping) or d.get("type") not in SECTION_TYPES:
        raise ValueError(f"{where}: 'type' must be one of {', '.join(SECTION_TYPES)}")
    cls = SECTION_TYPES[d["type"]]
    fields = cls.__dataclass_fields__
    unknown = set(d) - set(fields) - {"type"}
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    kw: dict[str, Any] = {}
    for k in fields:
        if k not in d:
            if k in ("source", "q"):
                continue
            raise ValueError(f"{where}: missing '{k}'")
        v = d[k]
        if k == "source":
            if not isinstance(v, str):
                raise ValueError(f"{where}: 'source' must be a string")
            kw[k] = v
        elif k == "order":
            if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 8:
                raise ValueError(f"{where}: 'order' must be an integer 1-8")
            kw[k] = v
        elif k in ("frequencies_hz", "gains_db"):
            if not isinstance(v, (list, tuple)) or len(v) < 2:
                raise ValueError(f"{where}: '{k}' must be a list of at least two numbers")
            kw[k] = tuple(_num(x, f"{where}.{k}", positive=k == "frequencies_hz") for x in v)
        else:
            pos = k.endswith("_hz") or k == "q"
            kw[k] = _num(v, f"{where}.{k}", positive=pos)
    if cls is Breakpoints:
        if len(kw["frequencies_hz"]) != len(kw["gains_db"]):
            raise ValueError(f"{where}: frequencies_hz and gains_db differ in length")
        if np.any(np.diff(kw["frequencies_hz"]) <= 0):
            raise ValueError(f"{where}: frequencies_hz must increase")
    return cls(**kw)


def device_from_dict(d: Any, where: str = "device") -> Device:
    """Build and validate a :class:`Device` from the user-file shape; ``ValueError`` (naming
    ``where`` and the field) on any problem."""
    if not isinstance(d, Mapping):
        raise ValueError(f"{where} must be a table/object")
    unknown = set(d) - set(Device.__dataclass_fields__)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    for k in _REQUIRED:
        if k not in d:
            raise ValueError(f"{where}: missing '{k}'")
    name = d["name"]
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{where}: 'name' must be a non-empty string")
    where = f"device '{name}'"
    kw: dict[str, Any] = {"name": name}
    for k in ("label", "kind", "notes"):
        if k in d:
            if not isinstance(d[k], str):
                raise ValueError(f"{where}: '{k}' must be a string")
            kw[k] = d[k]
    kw.setdefault("label", name)
    kw.setdefault("kind", "user")
    if d["channels_mode"] not in CHANNEL_MODES:
        raise ValueError(f"{where}: 'channels_mode' must be one of {', '.join(CHANNEL_MODES)}")
    kw["channels_mode"] = d["channels_mode"]
    for k in _NUMBER_FIELDS & set(d):
        if d[k] is None and k in ("max_level_db_spl", "mono_below_hz", "normalise_hz"):
            kw[k] = None
            continue
        kw[k] = _num(d[k], f"{where}.{k}", positive=k.endswith("_hz"))
    if kw["channels_mode"] == "mono" and "width" not in d:
        kw["width"] = 0.0
    filters = d["filters"]
    if not isinstance(filters, (list, tuple)):
        raise ValueError(f"{where}: 'filters' must be a list")
    kw["filters"] = tuple(
        _section_from_dict(s, f"{where} filter {i + 1}") for i, s in enumerate(filters)
    )
    for k in ("represents", "sources"):
        if k in d:
            v = d[k]
            if not isinstance(v, (list, tuple)) or not all(isinstance(x, str) for x in v):
                raise ValueError(f"{where}: '{k}' must be a list of strings")
            kw[k] = tuple(v)
    if d.get("noise") is not None:
        if d["noise"] != "car_road":
            raise ValueError(f"{where}: 'noise' must be null or 'car_road'")
        kw["noise"] = "car_road"
    if d.get("level") is not None:
        kw["level"] = _level_from_dict(d["level"], f"{where} level")
    return Device(**kw)


def _level_from_dict(d: Any, where: str) -> LevelBehaviour:
    if not isinstance(d, Mapping):
        raise ValueError(f"{where} must be a table/object")
    fields = LevelBehaviour.__dataclass_fields__
    unknown = set(d) - set(fields)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    missing = [k for k in fields if k != "source" and k not in d]
    if missing:
        raise ValueError(f"{where}: missing {', '.join(repr(k) for k in missing)}")
    if d["kind"] not in ("multiband_limiter", "bass_limiter"):
        raise ValueError(f"{where}: 'kind' must be 'multiband_limiter' or 'bass_limiter'")
    for k in ("crossovers_hz", "thresholds_db_spl"):
        if not isinstance(d[k], (list, tuple)):
            raise ValueError(f"{where}: '{k}' must be a list of numbers")
    crossovers = tuple(_num(x, f"{where}.crossovers_hz", positive=True) for x in d["crossovers_hz"])
    thresholds = tuple(_num(x, f"{where}.thresholds_db_spl") for x in d["thresholds_db_spl"])
    if len(thresholds) != len(crossovers) + 1 and d["kind"] == "multiband_limiter":
        raise ValueError(f"{where}: need one threshold per band (len(crossovers_hz) + 1)")
    if not crossovers or not thresholds:
        raise ValueError(f"{where}: crossovers_hz and thresholds_db_spl must not be empty")
    if np.any(np.diff(crossovers) <= 0):
        raise ValueError(f"{where}: crossovers_hz must increase")
    return LevelBehaviour(
        kind=d["kind"],
        crossovers_hz=crossovers,
        thresholds_db_spl=thresholds,
        ratio=_num(d["ratio"], f"{where}.ratio", positive=True),
        attack_ms=_num(d["attack_ms"], f"{where}.attack_ms", positive=True),
        release_ms=_num(d["release_ms"], f"{where}.release_ms", positive=True),
        source=str(d.get("source", "")),
    )


def _read_table(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".toml":
        try:
            import tomllib  # noqa: F401  (only to say which Python is needed)
        except ImportError as exc:  # Python 3.10
            raise ValueError("TOML needs Python 3.11 or newer; use JSON") from exc
        return parse_toml(text)
    return parse_json(text)


def load_devices(path: str | Path | None = None) -> dict[str, Device]:
    """Built-in devices plus those of a user file (a user device replaces a built-in one of the
    same name).

    File shape (JSON, or TOML for a ``.toml`` path): ``{"devices": [DEVICE, ...]}`` where
    DEVICE is :func:`device_to_dict`'s shape; only ``name``, ``channels_mode`` and ``filters``
    are required. Filters are ``{"type": "high_pass" | "low_pass" | "peaking" | "low_shelf" |
    "high_shelf" | "cabin_gain" | "breakpoints", ...the section's fields...}``.
    Raises :class:`UsageError` with a one-line message naming the file on any problem.
    """
    devices = dict(BUILTIN_DEVICES)
    if path is None:
        return devices
    p = Path(path)
    try:
        data = _read_table(p)
        if not isinstance(data, Mapping) or not isinstance(data.get("devices"), list):
            raise ValueError("expected a top-level 'devices' list")
        seen: set[str] = set()
        for i, entry in enumerate(data["devices"]):
            dev = device_from_dict(entry, f"device {i + 1}")
            if dev.name in seen:
                raise ValueError(f"device '{dev.name}' is defined twice")
            seen.add(dev.name)
            devices[dev.name] = dev
    except OSError as exc:
        raise UsageError(f"{p}: cannot read device file ({exc.strerror or exc})") from exc
    except (ValueError, TypeError) as exc:  # json/toml decode errors are ValueErrors
        msg = " ".join(str(exc).split())
        raise UsageError(f"{p}: bad device file: {msg}") from exc
    return devices
