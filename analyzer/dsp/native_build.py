"""Build the recursive kernels of :mod:`analyzer.dsp.compiled` ahead of time into a small shared
library that needs neither numba nor llvmlite to run (:mod:`analyzer.dsp.native` loads it).

Why: numba's cached kernels still cost ~0.5 s and ~130 MB of resident memory to load (llvmlite's
code generator), more than ``analyze`` may spend (its 60-minute file has a 150 MB line), so
``analyze`` ran the K-weighting recursion as numpy matrix products at ~7x the compiled cost. The
kernels here are numba's own code for the same functions: each is wrapped in a ``numba.cfunc``
taking raw pointers, its optimised LLVM module is emitted as a position-independent object for
plain x86-64 (no CPU-specific features: the library may be used on another machine of the same
architecture, and these recursions are sequential, so wider vectors would not speed them up),
and the objects are linked with the system's C compiler. numba's ``pycc`` does the same but its
wrappers hold the GIL for the whole call, which serialises the meters' threads; a ctypes call
releases it.

Only the kernels that allocate nothing are built (the K-weighting recursions and the EQ's
biquad cascade); they keep numba's IEEE arithmetic (no ``fastmath``), so they give the JIT's
bits, which the tests check (tests/dsp/test_native.py). The true-peak grid is the exception:
numba's kernel keeps its partial sums in memory and is no faster than numpy's matrix product,
so ``truepeak_grid.c`` does the same sums in the same order with the sums in registers, compiled
for the building CPU (``-march=native``; ``-ffp-contract=off`` keeps numba's bits). A compiler
that cannot target the CPU leaves it out; the recursions are still built. The limiter's gain
computer allocates its scratch, so numba cannot build it without its runtime:
``limiter_envelope.c`` is numba's kernel written out in C (same operations, same bits), so that
``master`` needs no numba at all.

``python -m analyzer.dsp.native_build`` (the install step of ``make demo`` / ``make test``)
writes ``analyzer/dsp/_native/kernels-<machine>-<interpreter>-<key>.so``, the key a hash of the
kernels' sources, this recipe and the loader, so that an edited kernel is never run from a stale
library. A failure prints one line and leaves the numpy and numba paths in charge.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from analyzer.dsp.native import (
    LIBRARY_DIR,
    SYMBOLS,
    cpu_identity,
    library_path,
    library_prefix,
)

# numba's error paths name these helpers (they live in numba's own extension modules, which a
# process using the library never imports). The kernels cannot raise on the arguments
# analyzer.dsp.native checks before every call (no bounds checks, error_model="numpy"), so the
# paths are never taken; the definitions only let the library load without numba, and stop the
# process rather than go on from a state numba could not report.
_SHIM = r"""
#include <stdint.h>
extern int PyGILState_Ensure(void);
extern void PyGILState_Release(int);
extern void abort(void);
void numba_gil_ensure(int *state) { *state = PyGILState_Ensure(); }
void numba_gil_release(int *state) { PyGILState_Release(*state); }
void NRT_MemInfo_call_dtor(void) { abort(); }
void NRT_Free(void) { abort(); }
void numba_do_raise(void) { abort(); }
void numba_runtime_build_excinfo_struct(void) { abort(); }
void numba_unpickle(void) { abort(); }

/* The recursions run with subnormal numbers flushed to zero (MXCSR FTZ and DAZ, this thread
 * only, restored after): a filter ringing out into digital silence decays through the
 * subnormal range, where every operation costs ~100x (a loud minute followed by a silent one
 * made the K-weighting ~30x slower). What is flushed is below 2.2e-308: its square, the
 * energy, is zero either way, and a 24-bit sample rounds it to zero. */
#if defined(__x86_64__)
#include <xmmintrin.h>
#define MX_QUIET_BEGIN unsigned int mx_csr = _mm_getcsr(); _mm_setcsr(mx_csr | 0x8040u);
#define MX_QUIET_END _mm_setcsr(mx_csr);
#else
#define MX_QUIET_BEGIN
#define MX_QUIET_END
#endif
extern void mxi_kweight_channel(double *, int64_t, double *, double *, double *, double *);
extern void mxi_kweight_stereo_energies(double *, int64_t, double *, double *, double *,
                                        double *, double *);
extern void mxi_biquad_cascade(double *, int64_t, int64_t, double *, int64_t, double *,
                               double *);
void mx_kweight_channel(double *x, int64_t n, double *b, double *a, double *s, double *y)
{ MX_QUIET_BEGIN mxi_kweight_channel(x, n, b, a, s, y); MX_QUIET_END }
void mx_kweight_stereo_energies(double *x, int64_t n, double *b, double *a, double *s,
                                double *z, double *f)
{ MX_QUIET_BEGIN mxi_kweight_stereo_energies(x, n, b, a, s, z, f); MX_QUIET_END }
void mx_biquad_cascade(double *x, int64_t ch, int64_t n, double *sos, int64_t sections,
                       double *z, double *y)
{ MX_QUIET_BEGIN mxi_biquad_cascade(x, ch, n, sos, sections, z, y); MX_QUIET_END }
"""


def _cfuncs() -> dict[str, object]:
    """The kernels behind C signatures: pointers and sizes in, results written in place."""
    import numba
    from numba import carray, types

    from analyzer.dsp import compiled

    f64p, i64 = types.CPointer(types.float64), types.int64
    opts = {"error_model": "numpy"}
    kweight_channel = compiled.kweight_channel
    stereo = compiled.kweight_stereo_energies
    cascade = compiled.biquad_cascade

    @numba.cfunc(types.void(f64p, i64, f64p, f64p, f64p, f64p), **opts)
    def c_kweight_channel(xp, n, bp, ap, sp, yp):  # type: ignore[no-untyped-def]
        kweight_channel(carray(xp, (n,)), carray(bp, (2, 3)), carray(ap, (2, 3)),
                        carray(sp, (2, 2)), carray(yp, (n,)))  # fmt: skip

    @numba.cfunc(types.void(f64p, i64, f64p, f64p, f64p, f64p, f64p), **opts)
    def c_kweight_stereo(xp, n, bp, ap, sp, zp, fp):  # type: ignore[no-untyped-def]
        stereo(carray(xp, (2, n)), carray(bp, (2, 3)), carray(ap, (2, 3)),
               carray(sp, (2, 2, 2)), carray(zp, (n,)), carray(fp, (n,)))  # fmt: skip

    @numba.cfunc(types.void(f64p, i64, i64, f64p, i64, f64p, f64p), **opts)
    def c_biquad_cascade(xp, ch, n, sp, sections, zp, yp):  # type: ignore[no-untyped-def]
        cascade(carray(xp, (ch, n)), carray(sp, (sections, 6)), carray(zp, (ch, sections, 2)),
                carray(yp, (ch, n)))  # fmt: skip

    return {
        "kweight_channel": c_kweight_channel,
        "kweight_stereo_energies": c_kweight_stereo,
        "biquad_cascade": c_biquad_cascade,
    }


def _objects(tmp: Path) -> tuple[list[Path], list[str]]:
    """One object file per kernel, and the linker's aliases from the exported names to numba's
    mangled ones."""
    import llvmlite.binding as ll

    cfuncs = _cfuncs()  # compiling them sets up numba's LLVM targets
    machine = ll.Target.from_default_triple().create_target_machine(
        cpu="", features="", opt=3, reloc="pic", codemodel="default"
    )
    objects, aliases = [], []
    for name, cfunc in cfuncs.items():
        library = cfunc._library  # type: ignore[attr-defined]
        library._ensure_finalized()
        path = tmp / f"{name}.o"
        path.write_bytes(machine.emit_object(library._final_module))
        objects.append(path)
        # numba's kernel under an internal name: the exported one is the shim's wrapper
        internal = SYMBOLS[name].replace("mx_", "mxi_", 1)
        aliases.append(f"-Wl,--defsym={internal}={cfunc.native_name}")  # type: ignore[attr-defined]
    return objects, aliases


def _compiler() -> list[str]:
    """The C compiler's command: ``$CC`` (which may carry arguments, as ``ccache gcc``), else
    ``cc`` or ``gcc``."""
    if os.environ.get("CC"):
        return shlex.split(os.environ["CC"])
    found = shutil.which("cc") or shutil.which("gcc")
    if found is None:
        raise RuntimeError("no C compiler (cc or gcc) to link the kernels")
    return [found]


#: The true-peak grid: for this CPU (its sums are independent across rows: wider vectors pay).
GRID_FLAGS = ("-O3", "-march=native", "-ffp-contract=off", "-fno-fast-math", "-fPIC")
#: The limiter's gain computer: sequential recursions, for any CPU of the architecture.
PORTABLE_FLAGS = ("-O2", "-ffp-contract=off", "-fno-fast-math", "-fPIC")


def _c_object(tmp: Path, name: str, flags: tuple[str, ...], what: str) -> list[Path]:
    """The object of the C source ``name`` beside this module, or none when the compiler
    refuses (one line says so; the meters then use numba's kernels or numpy)."""
    source = Path(__file__).with_name(name)
    out = tmp / f"{source.stem}.o"
    cmd = [*_compiler(), *flags, "-c", str(source), "-o", str(out)]
    try:
        subprocess.run(cmd, check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr.strip().splitlines() or ["failed"])[0]
        print(f"analyzer.dsp.native_build: {what} not built ({detail})", file=sys.stderr)
        return []
    return [out]


def _link(tmp: Path, out: Path) -> None:
    """Link the kernels' objects and the shim into ``out``, exporting only the ``mx_`` names
    (numba's internal symbols stay local: no other library can stand in for them)."""
    objects, aliases = _objects(tmp)
    if cpu_identity():
        objects += _c_object(tmp, "truepeak_grid.c", GRID_FLAGS, "true-peak grid")
    else:  # a -march=native build must be keyed by the CPU's features, which are unknown here
        print("analyzer.dsp.native_build: true-peak grid not built (the CPU's features are "
              "unknown)", file=sys.stderr)  # fmt: skip
    objects += _c_object(tmp, "limiter_envelope.c", PORTABLE_FLAGS, "limiter envelope")
    shim = tmp / "shim.c"
    shim.write_text(_SHIM)
    exports = tmp / "exports.map"
    exports.write_text("{ global: mx_*; local: *; };\n")
    cmd = [*_compiler(), "-shared", "-fPIC", "-O2", "-o", str(out), *map(str, objects),
           str(shim), *aliases, f"-Wl,--version-script={exports}"]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, text=True)


def build() -> Path:
    """Build the library for the current sources; returns its path (already there: no work)."""
    target = library_path()
    if target.is_file():
        return target
    with tempfile.TemporaryDirectory() as tmp_name:
        partial = Path(tmp_name) / target.name
        _link(Path(tmp_name), partial)
        LIBRARY_DIR.mkdir(exist_ok=True)
        # A unique name in the target folder, then one rename: a process loading the library
        # meanwhile (or a second build) never sees half a file.
        fd, staged = tempfile.mkstemp(prefix=".kernels-", suffix=".tmp", dir=LIBRARY_DIR)
        os.close(fd)
        try:
            shutil.copy2(partial, staged)
            os.replace(staged, target)
        finally:
            Path(staged).unlink(missing_ok=True)
    # Libraries of earlier sources for this interpreter (another venv's keep their prefix).
    for old in LIBRARY_DIR.glob(f"{library_prefix()}*.so"):
        if old != target:
            old.unlink(missing_ok=True)
    return target


def main() -> int:
    try:
        path = build()
    except Exception as exc:  # the numpy and numba paths still work: say why and go on
        detail = str(exc)
        if isinstance(exc, subprocess.CalledProcessError) and exc.stderr.strip():
            detail = exc.stderr.strip().splitlines()[0]  # the first complaint names the cause
        print(f"analyzer.dsp.native_build: kernels not built ({detail})", file=sys.stderr)
        return 0
    print(f"analyzer.dsp.native_build: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
