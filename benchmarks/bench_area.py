"""Benchmark ``geozones.area(gdf, method="ellipsoidal")`` against reading and the exact oracle.

On the synthetic farmland layer of a size (see ``generate.py``; generated when missing), in one
process run, this measures:

1. ``geopandas.read_parquet`` (best of ``--repeat``);
2. planar ``shapely.area`` on the geometry array (best of ``--repeat``);
3. the library function (default ``geozones:area``, best of ``--repeat``);
4. the exact oracle on ``--oracle-sample`` features (default all): transform the vertices to
   EPSG:4490 lon/lat with ``shapely.transform`` + a pyproj ``Transformer`` (best of
   ``--repeat``), orient the rings counter-clockwise (``Geod`` signs areas by orientation), then
   one ``Geod.geometry_area_perimeter`` call per polygon, on CGCS2000's ellipsoid (run once);
5. the relative difference between 3 and 4 on every sampled feature (max, 99.9th percentile,
   count over 1e-9);
6. peak RSS, per step (Linux: VmHWM after resetting it) and overall (``getrusage``);
7. unless ``--no-startup``: in fresh processes, the time to import geozones and of the first
   ``area()`` call, with an empty numba cache (the kernel is compiled) and a warm one.

A markdown report goes to stdout, and with ``--json`` the figures to a JSON file too. The exit
status is 1 if the library function cannot be imported or fails (the other steps still run),
else 0, whatever the accuracy.

Usage::

    python benchmarks/bench_area.py --size small
    python benchmarks/bench_area.py --size large --oracle-sample 100000 --json out.json
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import importlib
import json
import os
import platform
import resource
import shlex
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import geopandas
import numpy as np
import pandas as pd
import pyarrow
import pyproj
import shapely
from generate import DEFAULT_OUT, SIZES, ensure_layers

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.append(str(REPO))  # an uninstalled checkout still finds geozones

TOLERANCE = 1e-9
GOAL_READ_RATIO = 0.5
# pyproj's Geod sums per-edge terms of ~1e7 m² for a parcel; their rounding leaves an absolute
# noise of up to ~1e-4 m² (Geod's own additivity is violated by up to 4e-6 m² on 10-100 m
# squares split in two); over edges cut into 0.5 m pieces (hundreds of times the vertices) it
# reaches ~3e-3 m² (measured on red-line polygons of 1 ha, which agree with the centred TM to
# 1e-11). Against Geod a feature passes when |d| <= 1e-9 * area + this floor.
KARNEY_FLOOR_M2 = 5e-3
# The second oracle, a transverse Mercator centred on each parcel, errs by ~(r/R)^2 / 2: it is
# used on parcels under 5 ha (r < ~130 m, error < 5e-10), where Geod's floor dominates.
LOCAL_TM_MAX_M2 = 50_000.0
# The oracles measure the region the straight plane edges bound: each edge is cut into pieces
# this long (metres) before the vertices move to latitude/longitude.
ORACLE_STEP_M = 0.5
# The red-line-like layer: this share of the polygons becomes multipolygons, cut in two by a
# 20 m corridor (a road) through their centre, as delivered red lines are (16 %).
MULTIPOLYGON_SHARE = 0.16


def redline_with_multipolygons(path: Path) -> Path:
    """``redline.parquet`` with :data:`MULTIPOLYGON_SHARE` of it cut in two; made once."""
    out = path.with_name("redline_multi.parquet")
    if out.exists() and out.stat().st_mtime >= path.stat().st_mtime:
        return out
    gdf = geopandas.read_parquet(path)
    rng = np.random.default_rng(15)
    chosen = np.flatnonzero(rng.random(len(gdf)) < MULTIPOLYGON_SHARE)
    geoms = np.asarray(gdf.geometry.values)
    centre = shapely.centroid(geoms[chosen])
    bounds = shapely.bounds(geoms[chosen])
    corridor = shapely.box(
        bounds[:, 0] - 1.0,
        shapely.get_y(centre) - 10.0,
        bounds[:, 2] + 1.0,
        shapely.get_y(centre) + 10.0,
    )
    geoms[chosen] = shapely.difference(geoms[chosen], corridor)
    gdf = gdf.set_geometry(geopandas.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
    gdf.to_parquet(out)
    return out


# --------------------------------------------------------------------------------------------
# measuring


def _proc_status_mib(key: str) -> float | None:
    """A ``/proc/self/status`` memory figure (``VmRSS``, ``VmHWM``) in MiB, if available."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _reset_peak_rss() -> bool:
    """Reset the process's peak-RSS mark (Linux >= 4.0); False where unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


_STEP_PEAKS_MIB: list[float] = []  # resetting VmHWM also resets getrusage's ru_maxrss


def max_rss_mib() -> float:
    """Peak RSS of the whole run so far, MiB."""
    return max([resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, *_STEP_PEAKS_MIB])


@dataclass
class Step:
    """Timing and memory of one measured step."""

    name: str
    seconds: float | None = None  # best run
    runs: int = 0
    all_seconds: list[float] = field(default_factory=list)
    rss_before_mib: float | None = None
    peak_rss_mib: float | None = None  # peak during the step's runs
    error: str | None = None

    @property
    def extra_mib(self) -> float | None:
        """Peak RSS during the step above the RSS before it."""
        if self.peak_rss_mib is None or self.rss_before_mib is None:
            return None
        return self.peak_rss_mib - self.rss_before_mib


def geozones_read_layer(path: Path) -> Any:
    """geozones.read_layer, with its warnings silenced (they are the data's, not the bench's)."""
    import warnings

    import geozones

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return geozones.read_layer(path)


def measure(name: str, fn: Callable[[], Any], repeat: int) -> tuple[Any, Step]:
    """Run ``fn`` ``repeat`` times; keep the last result and the best time."""
    step = Step(name)
    result: Any = None
    gc.collect()
    step.rss_before_mib = _proc_status_mib("VmRSS")
    peak_so_far = _proc_status_mib("VmHWM")
    if peak_so_far is not None:
        _STEP_PEAKS_MIB.append(peak_so_far)  # the peak before this step, e.g. data generation
    per_step = _reset_peak_rss()
    for _ in range(repeat):
        result = None  # drop the previous result before the next run
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        step.all_seconds.append(time.perf_counter() - t0)
    step.runs = repeat
    step.seconds = min(step.all_seconds)
    step.peak_rss_mib = _proc_status_mib("VmHWM") if per_step else None
    if step.peak_rss_mib is not None:
        _STEP_PEAKS_MIB.append(step.peak_rss_mib)
    return result, step


def load_function(spec: str) -> Callable[..., Any]:
    """The callable named by ``module:attribute`` (an attribute that is a module is descended)."""
    module_name, _, attr = spec.partition(":")
    if not attr:
        raise ValueError(f"--impl {spec!r}: use module:function")
    module = importlib.import_module(module_name)
    obj = getattr(module, attr, None)
    if obj is None or isinstance(obj, ModuleType):  # e.g. geozones.area is still a submodule
        obj = getattr(importlib.import_module(f"{module_name}.{attr}"), attr)
    if not callable(obj):
        raise TypeError(f"{spec} is not callable")
    return obj  # type: ignore[no-any-return]


# --------------------------------------------------------------------------------------------
# the exact oracle


def cgcs2000_geod() -> tuple[pyproj.Geod, dict[str, Any]]:
    """A ``Geod`` on the CGCS2000 ellipsoid, and how it compares with GRS80's."""
    ellipsoid = pyproj.CRS("EPSG:4490").ellipsoid
    a, rf = ellipsoid.semi_major_metre, ellipsoid.inverse_flattening
    geod = pyproj.Geod(a=a, f=1.0 / rf)
    grs80 = pyproj.Geod(ellps="GRS80")
    info = {
        "name": ellipsoid.name,
        "a": a,
        "inverse_flattening": rf,
        "geod_f": geod.f,
        "grs80_f": grs80.f,
        "same_as_grs80": geod.a == grs80.a and geod.f == grs80.f,
    }
    return geod, info


def lonlat_transform(crs: pyproj.CRS) -> Callable[[np.ndarray], np.ndarray]:
    """Coordinates (n, 2) in ``crs`` to CGCS2000 lon/lat degrees, for ``shapely.transform``."""
    transformer = pyproj.Transformer.from_crs(crs, "EPSG:4490", always_xy=True)

    def to_lonlat(coords: np.ndarray) -> np.ndarray:
        lon, lat = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack((lon, lat))

    return to_lonlat


def oracle_areas(geoms_lonlat: np.ndarray, geod: pyproj.Geod) -> np.ndarray:
    """Exact geodesic area, m², of counter-clockwise lon/lat polygons, one call each."""
    area_perimeter = geod.geometry_area_perimeter
    return np.fromiter(
        (area_perimeter(g)[0] for g in geoms_lonlat), dtype=np.float64, count=len(geoms_lonlat)
    )


def relative_difference(
    values: np.ndarray, reference: np.ndarray, floor_m2: float = 0.0
) -> dict[str, Any]:
    """Max, 99.9th percentile and count over tolerance of |values/reference - 1|.

    A feature is within tolerance when ``|d| <= TOLERANCE * |reference| + floor_m2``.
    """
    difference = np.abs(values - reference)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = difference / np.abs(reference)
    bad = ~np.isfinite(rel)
    rel = np.where(bad, np.inf, rel)
    within = difference <= TOLERANCE * np.abs(reference) + floor_m2
    worst = int(np.argmax(rel)) if len(rel) else -1
    return {
        "features": len(rel),
        "max": float(rel.max()) if len(rel) else None,
        "p99_9": float(np.percentile(rel, 99.9)) if len(rel) else None,
        "median": float(np.median(rel)) if len(rel) else None,
        "max_abs_m2": float(difference[~bad].max()) if (~bad).any() else None,
        "floor_m2": floor_m2,
        "over_tolerance": int((~within).sum()),
        "not_finite": int(bad.sum()),
        "all_within_tolerance": bool(within.all()),
        "worst_position": worst,
    }


def local_tm_areas(geoms_lonlat: np.ndarray, ellipsoid: dict[str, Any]) -> np.ndarray:
    """Planar area in a transverse Mercator centred on each polygon (second oracle)."""
    result = np.empty(len(geoms_lonlat))
    for i, geom in enumerate(geoms_lonlat):
        centre = geom.centroid
        local = pyproj.Transformer.from_crs(
            "EPSG:4490",
            f"+proj=tmerc +lon_0={centre.x!r} +lat_0={centre.y!r} +k=1 +a={ellipsoid['a']!r} "
            f"+rf={ellipsoid['inverse_flattening']!r} +units=m",
            always_xy=True,
        )
        result[i] = shapely.transform(
            geom, lambda xy, t=local: np.column_stack(t.transform(*xy.T))
        ).area
    return result


# --------------------------------------------------------------------------------------------
# start-up: import and the first call, in fresh processes

_STARTUP = """
import json, sys, time
t0 = time.perf_counter()
import geopandas, shapely
t1 = time.perf_counter()
import geozones
t2 = time.perf_counter()
square = shapely.box(39_500_000, 3_150_000, 39_501_000, 3_151_000)
layer = geopandas.GeoSeries([square], crs=4527)
t3 = time.perf_counter()
geozones.area(layer)
t4 = time.perf_counter()
geozones.area(layer)
t5 = time.perf_counter()
print(json.dumps({"import_dependencies_s": t1 - t0, "import_geozones_s": t2 - t1,
                  "first_call_s": t4 - t3, "second_call_s": t5 - t4}))
"""


def startup_times() -> dict[str, Any]:
    """Import time and first-call time of ``geozones.area`` in fresh processes.

    ``cold``: an empty numba cache (``NUMBA_CACHE_DIR`` set to a new directory), so the first
    call compiles the kernel; ``warm``: the same directory again, so the kernel is loaded from
    the cache, which is what every run after the first one on a machine sees. The second call
    in each process is the steady state.
    """
    import subprocess
    import tempfile

    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=str(REPO))
        for label in ("cold", "warm"):
            run = subprocess.run(
                [sys.executable, "-c", _STARTUP],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if run.returncode != 0:
                result[label] = {"error": run.stderr.strip().splitlines()[-1:]}
            else:
                result[label] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


# --------------------------------------------------------------------------------------------
# report


def machine_info() -> dict[str, Any]:
    """CPU, memory and library versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count() or 0
    mem = None
    with contextlib.suppress(ValueError, OSError, AttributeError):
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "cpus_usable": affinity,
        "memory_gib": round(mem, 1) if mem else None,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "shapely": shapely.__version__,
        "geos": shapely.geos_version_string,
        "pyproj": pyproj.__version__,
        "proj": pyproj.proj_version_str,
        "geopandas": geopandas.__version__,
        "pyarrow": pyarrow.__version__,
    }


def _s(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.3f} s"


def _mib(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def _e(value: float | None) -> str:
    return "—" if value is None else f"{value:.2e}"


def render(report: dict[str, Any]) -> str:
    """The report as markdown."""
    m, d, r = report["machine"], report["data"], report["ratios"]
    lines = [
        f"## Area benchmark: {d['size']} {d['layer']} ({d['multipolygons']:,} multipolygons)",
        "",
        f"`{report['command']}`",
        "",
        f"- machine: {m['cpu']}, {m['cpu_count']} CPUs ({m['cpus_usable']} usable), "
        f"{m['memory_gib']} GiB; {m['platform']}",
        f"- python {m['python']}, numpy {m['numpy']}, pandas {m['pandas']}, "
        f"shapely {m['shapely']} (GEOS {m['geos']}), pyproj {m['pyproj']} (PROJ {m['proj']}), "
        f"geopandas {m['geopandas']}, pyarrow {m['pyarrow']}",
        f"- data: `{d['path']}` ({d['file_mib']:.1f} MiB), {d['features']:,} features, "
        f"{d['coordinates']:,} coordinates ({d['coordinates'] / d['features']:.1f} per "
        f"feature), {d['rings']:,} rings, CRS EPSG:{d['epsg']}",
        f"- implementation: `{report['impl']}`; oracle on {report['oracle_sample']:,} features; "
        f"ellipsoid {report['ellipsoid']['name']} a={report['ellipsoid']['a']} "
        f"1/f={report['ellipsoid']['inverse_flattening']} "
        f"(identical to GRS80: {'yes' if report['ellipsoid']['same_as_grs80'] else 'no'})",
        "",
        "| step | time (best) | runs | µs / feature | peak RSS in step (MiB) | above start (MiB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for step in report["steps"]:
        n = step["features"]
        per = "—" if step["seconds"] is None or not n else f"{step['seconds'] / n * 1e6:.2f}"
        peak, before = step["peak_rss_mib"], step["rss_before_mib"]
        extra = None if peak is None or before is None else peak - before
        name = step["name"] + (f" — **FAILED**: {step['error']}" if step["error"] else "")
        lines.append(
            f"| {name} | {_s(step['seconds'])} | {step['runs']} | {per} | {_mib(peak)} "
            f"| {_mib(extra)} |"
        )
    goal = r["area_over_read"]
    verdict = "—" if goal is None else ("met" if goal <= GOAL_READ_RATIO else "NOT met")
    lines += [
        "",
        "| ratio | value |",
        "|---|---:|",
        f"| area / read_parquet (goal ≤ {GOAL_READ_RATIO}: {verdict}) | {_ratio(goal)} |",
        f"| area / planar shapely.area | {_ratio(r['area_over_planar'])} |",
        f"| oracle (transform + orient + loop) / area, per feature | "
        f"{_ratio(r['oracle_over_area'])} |",
        "",
    ]
    acc, planar = report["accuracy"], report["planar_vs_oracle"]
    if acc is None:
        lines.append("Accuracy: not measured (the implementation failed).")
    else:
        lines += [
            f"Against Geod (Karney), a feature passes when |d| ≤ 1e-9 × area + "
            f"{KARNEY_FLOOR_M2:g} m² (Geod's own rounding floor); against the centred-TM oracle, "
            "when |d| ≤ 1e-9 × area.",
            "",
            f"| relative difference vs exact geodesic area ({acc['features']:,} features) "
            "| max | 99.9th pct | median | max |d| m² | failing | not finite | all pass |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
            _accuracy_row(f"`{report['impl']}` vs Geod", acc),
            _accuracy_row("planar shapely.area vs Geod (for scale)", planar),
        ]
        local = report.get("local_tm")
        if local:
            lines += [
                _accuracy_row(
                    f"`{report['impl']}` vs centred TM ({local['features']:,} parcels)", local
                ),
                _accuracy_row("Geod vs centred TM (same parcels)", local["karney_vs_local"]),
            ]
        if acc["worst"]:
            w = acc["worst"]
            lines.append(
                f"\nWorst feature: position {w['position']} (BSM {w['bsm']}), "
                f"{w['vertices']} coordinates, oracle {w['oracle_m2']:.6f} m², "
                f"implementation {w['impl_m2']:.6f} m²."
            )
    start = report.get("startup")
    if start:
        lines += [
            "",
            "Start-up, in fresh processes (numba compiles the kernel on the first call with an "
            "empty cache, `cold`; later runs load it from the cache, `warm`):",
            "",
            "| process | import geopandas + shapely | import geozones | first `area()` | "
            "second `area()` |",
            "|---|---:|---:|---:|---:|",
        ]
        for label, times in start.items():
            if "error" in times:
                lines.append(f"| {label} | **FAILED**: {times['error']} | | | |")
                continue
            lines.append(
                f"| {label} | {_s(times['import_dependencies_s'])} | "
                f"{_s(times['import_geozones_s'])} | {_s(times['first_call_s'])} | "
                f"{_s(times['second_call_s'])} |"
            )
    lines += [
        "",
        f"Load average (1 min) before the run {report['load_before']:.2f}, after "
        f"{report['load_after']:.2f} (other processes share the CPUs).",
    ]
    lines += ["", f"Peak RSS of the run: {report['peak_rss_mib']:,.0f} MiB."]
    return "\n".join(lines)


def _accuracy_row(label: str, acc: dict[str, Any]) -> str:
    verdict = "**yes**" if acc["all_within_tolerance"] else "**NO**"
    return (
        f"| {label} | {_e(acc['max'])} | {_e(acc['p99_9'])} | {_e(acc['median'])} | "
        f"{_e(acc['max_abs_m2'])} | {acc['over_tolerance']:,} | {acc['not_finite']:,} | "
        f"{verdict} |"
    )


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


# --------------------------------------------------------------------------------------------
# driver


def run(args: argparse.Namespace, command: str) -> tuple[dict[str, Any], int]:
    """Run every step; return the report and the exit status."""
    status = 0
    load_before = os.getloadavg()[0]
    source = "redline" if args.layer == "redline" else "farmland"
    path = ensure_layers(
        args.size if args.parcels is None else None,
        args.parcels,
        [source],
        args.data,
        seed=args.seed,
        log=lambda msg: print(f"[generate] {msg}", file=sys.stderr, flush=True),
    )[source]
    if args.layer == "redline":
        path = redline_with_multipolygons(path)
    steps: list[tuple[Step, int]] = []

    gdf, read = measure(
        "read: geopandas.read_parquet", lambda: geopandas.read_parquet(path), args.repeat
    )
    n = len(gdf)
    steps.append((read, n))
    geoms = np.asarray(gdf.geometry.values)
    coords = shapely.get_num_coordinates(geoms)
    data = {
        "size": args.size if args.parcels is None else f"n{args.parcels}",
        "layer": args.layer,
        "multipolygons": int(
            (shapely.get_type_id(geoms) == shapely.GeometryType.MULTIPOLYGON).sum()
        ),
        "path": str(path),
        "file_mib": path.stat().st_size / 2**20,
        "features": n,
        "coordinates": int(coords.sum()),
        "rings": int(n + shapely.get_num_interior_rings(geoms).sum()),
        "epsg": gdf.crs.to_epsg(),
    }

    planar, planar_step = measure("planar: shapely.area", lambda: shapely.area(geoms), args.repeat)
    steps.append((planar_step, n))

    lib_name = f"library: {args.impl}(gdf, method='ellipsoidal')"
    lib_values: np.ndarray | None = None
    try:
        func = load_function(args.impl)
    except Exception as exc:  # report and carry on with the other steps
        steps.append((Step(lib_name, error=f"cannot import: {type(exc).__name__}: {exc}"), n))
        status = 1
    else:
        try:
            # A fresh copy of the layer per run: geozones remembers the geometry objects it
            # has checked valid, so a second run on the same frame would skip the check.
            fresh = iter([geopandas.read_parquet(path) for _ in range(args.repeat)])
            result, lib_step = measure(
                lib_name, lambda: func(next(fresh), method="ellipsoidal"), args.repeat
            )
            if not isinstance(result, pd.Series):
                raise TypeError(f"returned {type(result).__name__}, not a pandas Series")
            if not result.index.equals(gdf.index):
                raise ValueError("result index is not aligned with gdf.index")
            lib_values = result.to_numpy(dtype=np.float64)
            steps.append((lib_step, n))
        except Exception as exc:
            traceback.print_exc()
            steps.append((Step(lib_name, error=f"{type(exc).__name__}: {exc}"), n))
            status = 1

    k = n if args.oracle_sample is None else min(args.oracle_sample, n)
    sample = (
        np.arange(n)
        if k == n
        else np.sort(np.random.default_rng(args.seed).choice(n, k, replace=False))
    )
    # Straight plane edges: cut into pieces of ORACLE_STEP_M before the vertices move.
    sampled = shapely.segmentize(geoms[sample], ORACLE_STEP_M)
    to_lonlat = lonlat_transform(gdf.crs)
    lonlat, transform_step = measure(
        f"oracle: edges cut to {ORACLE_STEP_M} m, transform to EPSG:4490 (shapely + pyproj)",
        lambda: shapely.transform(sampled, to_lonlat),
        args.repeat,
    )
    steps.append((transform_step, k))
    oriented, orient_step = measure(
        "oracle: shapely.orient_polygons (counter-clockwise)",
        functools.partial(shapely.orient_polygons, lonlat, exterior_cw=False),
        args.repeat,
    )
    del lonlat
    steps.append((orient_step, k))
    geod, ellipsoid = cgcs2000_geod()
    oracle, loop_step = measure(
        "oracle: Geod.geometry_area_perimeter loop",
        functools.partial(oracle_areas, oriented, geod),
        1,
    )
    del oriented
    steps.append((loop_step, k))
    negative = int((oracle < 0).sum())
    if negative:
        print(f"warning: {negative} oracle areas are negative (ring orientation)", file=sys.stderr)

    accuracy = None
    if lib_values is not None:
        accuracy = relative_difference(lib_values[sample], oracle, KARNEY_FLOOR_M2)
        pos = accuracy.pop("worst_position")
        accuracy["worst"] = None
        if pos >= 0:
            accuracy["worst"] = {
                "position": int(sample[pos]),
                "bsm": int(gdf["BSM"].iloc[sample[pos]]) if "BSM" in gdf else None,
                "vertices": int(coords[sample[pos]]),
                "oracle_m2": float(oracle[pos]),
                "impl_m2": float(lib_values[sample[pos]]),
            }
    planar_acc = relative_difference(planar[sample], oracle, KARNEY_FLOOR_M2)
    planar_acc.pop("worst_position")
    local_acc = None
    if lib_values is not None:
        small = np.flatnonzero(oracle < LOCAL_TM_MAX_M2)
        rng = np.random.default_rng(args.seed + 1)
        chosen = np.sort(rng.choice(small, min(args.local_sample, len(small)), replace=False))
        local_lonlat = shapely.transform(sampled[chosen], to_lonlat)
        local = local_tm_areas(local_lonlat, ellipsoid)
        local_acc = relative_difference(lib_values[sample[chosen]], local)
        local_acc.pop("worst_position")
        karney_vs_local = relative_difference(oracle[chosen], local)
        karney_vs_local.pop("worst_position")
        local_acc["karney_vs_local"] = karney_vs_local

    checked_read, checked_step = measure(
        "read: geozones.read_layer (validates every geometry)",
        lambda: geozones_read_layer(path),
        1,
    )
    steps.append((checked_step, n))
    if lib_values is not None:
        _, checked_area = measure(
            "library on the read_layer result (validated at read)",
            lambda: func(checked_read, method="ellipsoidal"),
            args.repeat,
        )
        steps.append((checked_area, n))

    by_name = {s.name: s for s, _ in steps}
    lib = by_name.get(lib_name)
    lib_s = lib.seconds if lib is not None else None
    oracle_s = sum(s.seconds or 0.0 for s in (transform_step, orient_step, loop_step))
    ratios = {
        "area_over_read": None if lib_s is None else lib_s / read.seconds,
        "area_over_planar": None if lib_s is None else lib_s / planar_step.seconds,
        "oracle_over_area": None if lib_s is None else (oracle_s / k) / (lib_s / n),
    }
    report = {
        "command": command,
        "machine": machine_info(),
        "data": data,
        "impl": args.impl,
        "repeat": args.repeat,
        "oracle_sample": k,
        "ellipsoid": ellipsoid,
        "steps": [asdict(s) | {"features": f} for s, f in steps],
        "ratios": ratios,
        "goal_area_over_read": GOAL_READ_RATIO,
        "tolerance": TOLERANCE,
        "accuracy": accuracy,
        "planar_vs_oracle": planar_acc,
        "local_tm": local_acc,
        "oracle_negative_areas": negative,
        "peak_rss_mib": max_rss_mib(),
        "startup": None if args.no_startup else startup_times(),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }
    return report, status


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--size", choices=list(SIZES), default="large", help="(%(default)s)")
    group.add_argument("--parcels", type=int, help="custom number of farmland parcels")
    parser.add_argument(
        "--layer",
        choices=["farmland", "redline"],
        default="farmland",
        help="farmland parcels, or red-line polygons (thousands of vertices, "
        f"{round(MULTIPOLYGON_SHARE * 100)}%% multipolygons) (%(default)s)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of fast steps (%(default)s)")
    parser.add_argument(
        "--oracle-sample", type=int, metavar="K", help="oracle on K random features (all)"
    )
    parser.add_argument(
        "--local-sample",
        type=int,
        default=2000,
        metavar="K",
        help="second oracle (centred TM) on K parcels under 5 ha (%(default)s)",
    )
    parser.add_argument("--impl", default="geozones:area", help="module:function (%(default)s)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write figures as JSON")
    parser.add_argument("--data", type=Path, default=DEFAULT_OUT, help="data root (%(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="data and sample seed (%(default)s)")
    parser.add_argument(
        "--no-startup",
        action="store_true",
        help="skip the import and first-call (numba compile) times in fresh processes",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.oracle_sample is not None and args.oracle_sample < 1:
        parser.error("--oracle-sample must be at least 1")
    command = shlex.join(["python", *sys.argv]) if argv is None else shlex.join(argv)
    report, status = run(args, command)
    print(render(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
