"""The figures of benchmarks/publish_scale.py: tables, where a first publish's time goes, the worker sweep, and
the targets of the publish (each printed with its figure and met / NOT met). Prints; asserts nothing.

Targets (measured side by side with `aws s3 sync` in one run, same emulator, same simulated link):
- rebuild publish wall <= 0.2x sync for a build under 1,000 files, <= 0.1x from 1,000 files on;
- rebuild request count does not grow with the number of files in the site (the same at every size: a
  one-module rebuild changes 3 files at every size);
- bytes uploaded by a rebuild publish <= 2x the changed bytes (the files whose content differs between the
  two builds);
- first publish wall <= 1.0x sync;
- a no-change publish makes at most 3 requests;
- start-up (process spawn to its first request at the proxy) <= 0.25 s.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
from pathlib import Path

REBUILD_RATIO_SMALL, REBUILD_RATIO_LARGE, LARGE_FROM = 0.2, 0.1, 1000
BYTES_RATIO, FIRST_RATIO, NO_CHANGE_REQUESTS, STARTUP_S = 2.0, 1.0, 3, 0.25


def fmt_counts(counts: dict) -> str:
    return ", ".join(f"{k.split(':')[-1]} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def table(rows: list[dict]) -> None:
    print(
        "\n| build | scenario | inv frontend.publish | aws s3 sync | wall ratio | request ratio | load |\n"
        "|---|---|---|---|---|---|---|"
    )
    for r in rows:
        tm, sy = r["tmkit"], r["sync"]
        scenario = r["scenario"] + (f" --workers {tm['workers']}" if tm.get("workers") else "")
        if "changed_bytes" in r:
            scenario += f" ({r['changed_files']} files, {r['changed_bytes'] / 1e3:.1f} kB changed)"
        cells = [
            f"{x['wall']:.2f} s ({x['cpu']:.2f} s CPU; emulator {x['emulator_cpu']:.2f} s), {x['requests']} req, "
            f"{x['bytes'] / 1e6:.3f} MB up, {x['rss_kb'] / 1024:.0f} MiB RSS"
            for x in (tm, sy)
        ]
        req = f"{tm['requests'] / sy['requests']:.2f}x" if sy["requests"] else "-"
        print(
            f"| {r['files']:,} files, {r['mb']:.1f} MB | {scenario} | {cells[0]} | {cells[1]} | "
            f"{_ratio(tm['wall'], sy['wall']):.2f}x | {req} | {r['load']:.1f} |"
        )


def where_time_goes(rows: list[dict], link_rate: float) -> None:
    """Per first publish: spawn -> first request, -> first upload, the uploads, -> last request, -> exit."""
    print(
        "\nfirst publish, where the wall time goes (s; from the proxy's view of the requests). link floor: the bytes "
        "at the link's rate; in flight: mean uploads in flight; link busy: upload bytes at the link's rate / upload "
        "phase; other req: requests that are not uploads"
    )
    print(
        f"  {'files':>6} {'tool':<5} {'workers':>7} {'wall':>6} {'floor':>6} {'start':>6} {'before':>6} "
        f"{'uploads':>7} {'after':>6} {'exit':>5} {'in flight':>9} {'busy':>5} {'other req':>9} {'CPU':>5} {'emu CPU':>7} "
        f"{'proxy CPU':>9}"
    )
    for r in rows:
        if r["scenario"] != "first publish":
            continue
        for tool in ("tmkit", "sync"):
            x, p = r[tool], r[tool]["phases"]
            if not p.get("uploads"):
                continue
            floor = x["bytes"] / link_rate if link_rate else 0.0
            print(
                f"  {r['files']:>6} {tool:<5} {x.get('workers') or 'default':>7} {x['wall']:>6.2f} {floor:>6.2f} "
                f"{p['startup']:>6.2f} {p['before_uploads']:>6.2f} {p['uploads']:>7.2f} {p['after_uploads']:>6.2f} "
                f"{p['exit']:>5.2f} {p['in_flight']:>9.1f} {p['link_busy']:>5.0%} {p['others']:>9} "
                f"{x['cpu']:>5.1f} {x['emulator_cpu']:>7.1f} {x['proxy_cpu']:>9.1f}"
            )


def sweep_table(sweep: list[dict]) -> None:
    if not sweep:
        return
    print("\nfirst publish by uploads in flight (--workers N; sync at awscli's default of 10, run right after):")
    print(
        "\n| files | --workers | inv frontend.publish | aws s3 sync | ratio | tmkit CPU | emulator CPU (tmkit run) | "
        "mean in flight | link busy | load |\n|---|---|---|---|---|---|---|---|---|---|"
    )
    for r in sweep:
        tm, sy = r["tmkit"], r["sync"]
        p = tm["phases"]
        print(
            f"| {r['files']:,} | {tm['workers']} | {tm['wall']:.2f} s | {sy['wall']:.2f} s | "
            f"{_ratio(tm['wall'], sy['wall']):.2f}x | {tm['cpu']:.2f} s | {tm['emulator_cpu']:.2f} s | "
            f"{p.get('in_flight', 0):.1f} | {p.get('link_busy', 0):.0%} | {r['load']:.1f} |"
        )
    groups: dict[tuple[int, int], list[float]] = {}
    for r in sweep:
        groups.setdefault((r["files"], r["tmkit"]["workers"]), []).append(_ratio(r["tmkit"]["wall"], r["sync"]["wall"]))
    print(
        "\nmedian ratio to sync per size and --workers: "
        + "; ".join(
            f"{n:,} files --workers {w}: {statistics.median(v):.2f}x ({len(v)} runs)"
            for (n, w), v in sorted(groups.items())
        )
    )


def _check(out: list, target: str, files: int | None, figure: str, met: bool | None) -> None:
    out.append({"target": target, "files": files, "figure": figure, "met": met})


def targets(rows: list[dict]) -> list[dict]:
    out: list[dict] = []
    by = {(r["files"], r["scenario"]): r for r in rows}
    sizes = sorted({r["files"] for r in rows})
    for n in sizes:
        r = by.get((n, "rebuild"))
        if r:
            limit = REBUILD_RATIO_SMALL if n < LARGE_FROM else REBUILD_RATIO_LARGE
            ratio = _ratio(r["tmkit"]["wall"], r["sync"]["wall"])
            figure = f"{ratio:.3f}x ({r['tmkit']['wall']:.2f} s vs {r['sync']['wall']:.2f} s)"
            _check(out, f"rebuild wall <= {limit}x sync", n, figure, ratio <= limit)
    rebuilds = [(n, by[(n, "rebuild")]) for n in sizes if (n, "rebuild") in by]
    if rebuilds:
        counts = [r["tmkit"]["requests"] for _, r in rebuilds]
        figure = " | ".join(
            f"{n:,} files: {r['tmkit']['requests']} ({r['changed_files']} changed; sync {r['sync']['requests']})"
            for n, r in rebuilds
        )
        met = (max(counts) == min(counts)) if len(rebuilds) > 1 else None
        _check(out, "rebuild requests do not grow with the site's files", None, figure, met)
    for n, r in rebuilds:
        ratio = _ratio(r["tmkit"]["bytes"], r["changed_bytes"])
        figure = f"{ratio:.2f}x ({r['tmkit']['bytes'] / 1e3:.1f} kB up, {r['changed_bytes'] / 1e3:.1f} kB changed)"
        _check(out, f"rebuild bytes <= {BYTES_RATIO:g}x changed bytes", n, figure, ratio <= BYTES_RATIO)
    for n in sizes:
        r = by.get((n, "first publish"))
        if r:
            ratio = _ratio(r["tmkit"]["wall"], r["sync"]["wall"])
            figure = f"{ratio:.3f}x ({r['tmkit']['wall']:.2f} s vs {r['sync']['wall']:.2f} s)"
            _check(out, f"first publish wall <= {FIRST_RATIO:g}x sync", n, figure, ratio <= FIRST_RATIO)
    for n in sizes:
        r = by.get((n, "no change"))
        if r:
            x = r["tmkit"]
            figure = f"{x['requests']} ({fmt_counts(x['counts'])})"
            _check(out, f"no-change publish <= {NO_CHANGE_REQUESTS} requests", n, figure, x["requests"] <= 3)
    for n in sizes:
        starts = [r["tmkit"]["phases"]["startup"] for r in rows if r["files"] == n and r["tmkit"]["phases"]]
        if starts:
            s = statistics.median(starts)
            figure = f"{s:.3f} s (median of {len(starts)} runs; min {min(starts):.3f} s)"
            _check(out, f"start-up to first request <= {STARTUP_S} s", n, figure, s <= STARTUP_S)
    return out


def print_targets(checks: list[dict], link: str) -> None:
    print(f"\ntargets ({link}; inv frontend.publish vs aws s3 sync in the same run):")
    for c in checks:
        state = "n/a (needs two sizes)" if c["met"] is None else ("met" if c["met"] else "NOT met")
        where = f"{c['files']:>6,} files" if c["files"] else f"{'all sizes':>12}"
        print(f"  {where}  {c['target']:<50} {state:<8} {c['figure']}")


def _commit() -> str:
    proc = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True)
    return proc.stdout.strip()


def report(rows: list[dict], sweep: list[dict], meta: dict, json_path: Path | None) -> None:
    link, rate = meta["link"], meta["upload_mbit"] * 1e6 / 8
    print(f"\n## publish at scale ({link}; both tools as CLI processes) [load average {os.getloadavg()[0]:.1f}]")
    if rows:
        table(rows)
        print("\nrequests by operation (where they go):")
        for r in rows:
            for tool in ("tmkit", "sync"):
                x = r[tool]
                print(f"  {r['files']:>6} files  {r['scenario']:<13} {tool:<5}  {fmt_counts(x['counts']) or '-'}")
    where_time_goes(rows + sweep, rate)
    if sweep:
        print(f"(--workers passed through {meta['workers_via']})")
    sweep_table(sweep)
    checks = targets(rows)
    if checks:
        print_targets(checks, link)
    if json_path:
        doc = {**meta, "commit": _commit(), "load_average": os.getloadavg(), "rows": rows, "sweep": sweep}
        json_path.write_text(json.dumps({**doc, "targets": checks}, indent=1, default=str))
        print(f"\nrows written to {json_path}")
