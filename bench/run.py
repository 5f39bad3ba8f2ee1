#!/usr/bin/python3
"""The benchmark driver: runs the scenarios (bench/lib/*.py, each `run(ctx)`
returning Sections of per-run Figures), then writes bench/RESULTS.md: for each
figure the median of the runs, the spread and the runs, ratios to the floors
measured in the same run, the issue's targets, the command and the machine.

    bench/run.py [--quick] [--only a,b] [--runs N] [--size name=N] [--brokers B]

Normally started by scripts/bench, which installs, builds and starts the
Kafka broker first. A scenario that fails is reported as failed (with why) and
the others still run; the exit status is then 1.
"""
import argparse
import datetime
import importlib
import json
import os
import platform
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))

from benchlib import BenchError, Context, Section  # noqa: E402

# Scenario key -> (module, function). Floors first: the engine's figures are
# reported as ratios to them, all measured in the same run.
SCENARIOS = [
    ("kafka_floor", "floors", "kafka_floor"),
    ("http_floor", "floors", "http_floor"),
    ("smtp_floor", "smtp", "run"),
    ("sms_fanout", "fanout", "sms_fanout"),
    ("render_only", "fanout", "render_only"),
    ("email_fanout", "fanout", "email_fanout"),
    ("listmonk", "listmonk", "run"),
    ("kannel_peer", "kannel_peer", "run"),
    ("urgent", "urgent", "run"),
    ("crash", "crash", "run"),
    ("directory", "directory", "run"),
    ("micro", "micro", "run"),
]


def machine():
    def read(path):
        try:
            with open(path) as f:
                return f.read()
        except OSError:
            return ""
    model = next((l.split(":", 1)[1].strip() for l in read("/proc/cpuinfo").splitlines()
                  if l.startswith("model name")), platform.processor() or "unknown CPU")
    mem_kib = next((int(l.split()[1]) for l in read("/proc/meminfo").splitlines() if l.startswith("MemTotal:")), 0)
    debian = read("/etc/debian_version").strip()
    try:
        gxx = subprocess.run(["g++", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        gxx = "g++ unknown"
    return {"cores": os.cpu_count(), "cpu": model, "memory_gib": round(mem_kib / 1024 / 1024, 1),
            "kernel": platform.release(), "debian": debian, "compiler": gxx}


def fmt(value, unit=""):
    if value is None:
        return "n/a"
    a = abs(value)
    if a >= 100:
        text = f"{value:,.0f}"
    elif a >= 10:
        text = f"{value:.1f}"
    elif a >= 0.1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3g}"
    return text + (f" {unit}" if unit and unit not in ("/s",) else unit if unit == "/s" else "")


def find_figure(sections, ref):
    key, _, name = ref.partition(".")
    for s in sections:
        if s.key == key:
            for f in s.figures:
                if f.name == name:
                    return f
    return None


def ratio_value(sections, ratio):
    n, d = find_figure(sections, ratio.numerator), find_figure(sections, ratio.denominator)
    if not n or not d or not n.median or not d.median:
        return None
    return n.median / d.median


def target_status(sections, target):
    if target.figure.startswith("ratio:"):
        label = target.figure[len("ratio:"):]
        ratio = next((r for s in sections for r in s.ratios if r.label == label), None)
        value = ratio_value(sections, ratio) if ratio else None
    else:
        f = find_figure(sections, target.figure)
        value = (f.worst if target.of == "worst" else f.median) if f else None
    if value is None:
        return None, "not measured"
    ok = value >= target.value if target.op == ">=" else value <= target.value
    return value, "met" if ok else "not met"


def write_report(path, sections, failures, info):
    out = ["# Benchmark results", "",
           "Written by `bench/run.py` (started by `scripts/bench`); do not edit by hand: the notes on",
           "what was profiled and changed are in [NOTES.md](NOTES.md).", ""]
    m = info["machine"]
    out += [f"- **When**: {info['started']} to {info['finished']} ({info['minutes']:.1f} min)",
            f"- **Command**: `{info['command']}`" + (" (quick sizes)" if info["quick"] else " (full sizes)"),
            f"- **Machine**: {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB RAM, Debian {m['debian']}, "
            f"Linux {m['kernel']}, {m['compiler']}; build `{info['build_type']}`",
            f"- **Load average** at the start {info['load_start']}, at the end {info['load_end']} "
            "(everything shares the two cores: the engine, Kafka, the gateways, the peers)",
            f"- **Kafka**: a real broker (Apache Kafka {info['kafka_version']}, one KRaft node) at {info['brokers']}",
            "- Each figure: the **median** of its runs, the **spread** (max − min) and the runs themselves. "
            "Ratios are of medians measured in this same run.", ""]
    targets = [(s, t) for s in sections for t in s.targets]
    if targets:
        out += ["## Targets (issue 5)", "", "| target | measured (median) | status |", "|---|---|---|"]
        for s, t in targets:
            value, status = target_status(sections, t)
            out.append(f"| {t.label} | {fmt(value)} | {status} |")
        out.append("")
    if failures:
        out += ["## Scenarios that did not complete", ""]
        for key, why in failures:
            out.append(f"- `{key}`: {why}")
        out.append("")
    for s in sections:
        out += [f"## {s.title}", "", s.description.strip(), "", f"Command: `{s.command}`", "",
                "| figure | median | spread | runs |", "|---|---|---|---|"]
        for f in s.figures:
            runs = ", ".join(fmt(v) for v in f.runs)
            out.append(f"| {f.name} | {fmt(f.median, f.unit)} | {fmt(f.spread)} | {runs} |")
        if s.ratios:
            out += ["", "| ratio | value |", "|---|---|"]
            for r in s.ratios:
                out.append(f"| {r.label} (`{r.numerator}` / `{r.denominator}`) | {fmt(ratio_value(sections, r))} |")
        if s.notes.strip():
            out += ["", s.notes.strip()]
        out.append("")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out))


def sections_to_json(sections):
    return [{"key": s.key, "title": s.title, "command": s.command,
             "figures": [{"name": f.name, "unit": f.unit, "runs": f.runs, "median": f.median, "spread": f.spread}
                         for f in s.figures]} for s in sections]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes: the whole run in a few minutes")
    ap.add_argument("--only", default="", help="comma-separated scenario keys: " + ", ".join(k for k, _, _ in SCENARIOS))
    ap.add_argument("--runs", type=int, default=3, help="runs per figure (at least 3 for RESULTS.md)")
    ap.add_argument("--size", action="append", default=[], metavar="NAME=N", help="override a scenario's size")
    ap.add_argument("--brokers", default=os.environ.get("SUNBEAM_BENCH_BROKERS", "127.0.0.1:29092"))
    ap.add_argument("--build", default=os.path.join(os.path.dirname(HERE), "build"))
    ap.add_argument("--output", default=os.path.join(HERE, "RESULTS.md"))
    ap.add_argument("--command", default=None, help="the command line to print in the report")
    args = ap.parse_args()

    known = [k for k, _, _ in SCENARIOS]
    only = [k for k in args.only.split(",") if k]
    unknown = [k for k in only if k not in known]
    if unknown:
        ap.error(f"unknown scenario {', '.join(unknown)}: choose from {', '.join(known)}")
    if args.runs < 1:
        ap.error("--runs is at least 1")
    sizes = {}
    for item in args.size:
        name, sep, value = item.partition("=")
        if not sep or not value.isdigit():
            ap.error(f"--size {item!r}: write NAME=N, e.g. sms_fanout=200000")
        sizes[name] = int(value)

    root = os.path.dirname(HERE)
    work = os.path.join(args.build, "bench-run")
    ctx = Context(root=root, build=args.build, work=work, brokers=args.brokers, quick=args.quick,
                  runs=args.runs, sizes=sizes, log_file=os.path.join(work, "bench.log"))
    info = {"machine": machine(), "started": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            "quick": args.quick, "brokers": args.brokers, "load_start": ", ".join(f"{x:.1f}" for x in os.getloadavg()),
            "command": args.command or "bench/run.py " + " ".join(sys.argv[1:]),
            "kafka_version": os.environ.get("SUNBEAM_KAFKA_VERSION", "3.9.1")}
    try:
        with open(os.path.join(args.build, "CMakeCache.txt")) as f:
            info["build_type"] = next((l.split("=", 1)[1].strip() for l in f if l.startswith("CMAKE_BUILD_TYPE:")), "?")
    except OSError:
        info["build_type"] = "?"
    t0 = time.time()
    sections, failures = [], []
    for key, module, function in SCENARIOS:
        if only and key not in only:
            continue
        started = time.time()
        ctx.log(f"== {key}")
        try:
            result = getattr(importlib.import_module(module), function)(ctx)
            sections += [result] if isinstance(result, Section) else list(result)
            ctx.log(f"== {key}: done in {time.time() - started:.0f} s")
        except (ImportError, AttributeError) as e:
            failures.append((key, f"not available in this checkout ({e})"))
            ctx.log(f"== {key}: not available: {e}")
        except BenchError as e:
            failures.append((key, str(e)))
            ctx.log(f"== {key}: FAILED: {e}")
        except Exception as e:  # a bug in a scenario must not cost the other figures
            failures.append((key, f"{type(e).__name__}: {e}"))
            ctx.log(f"== {key}: FAILED:\n{traceback.format_exc()}")
    info["finished"] = datetime.datetime.now().astimezone().strftime("%H:%M %Z")
    info["minutes"] = (time.time() - t0) / 60
    info["load_end"] = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    write_report(args.output, sections, failures, info)
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump({"info": info, "sections": sections_to_json(sections), "failures": failures}, f, indent=1)
    ctx.log(f"wrote {args.output} ({len(sections)} sections, {len(failures)} failed) in {info['minutes']:.1f} min")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
