#!/usr/bin/env bash
# Install the anchor tools the loudness benchmark compares against (idempotent).
# Debian's ffmpeg (its ebur128 filter is the speed reference) and GNU time (/usr/bin/time).
# Debian's libsndfile1 (ffmpeg pulls it in too): the codec check encodes with it when present
# (analyzer/io/codec.py), as the system libsndfile's codecs are 3-4x faster than the wheel's.
set -euo pipefail

missing=()
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
[ -x /usr/bin/time ] || missing+=(time)
ldconfig -p 2>/dev/null | grep -q 'libsndfile\.so\.1 ' || missing+=(libsndfile1)

if [ "${#missing[@]}" -eq 0 ]; then
    echo "benchmarks/setup.sh: ffmpeg, /usr/bin/time and libsndfile1 already present"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "benchmarks/setup.sh: need root (or sudo) to install: ${missing[*]}" >&2
        exit 1
    fi
fi

echo "benchmarks/setup.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
