"""Micro-benchmarks: bench_micro (Google Benchmark) for the hot pieces of
sunbeam, each beside a baseline measured in the same program run.

    micro   event parsing, audience planning, rendering, SMS part counting and
            the token bucket; one Figure per benchmark, the items/s of each
            repetition (--benchmark_repetitions = the driver's runs)

Full: every benchmark, 0.2 s of CPU at least per repetition, directories of
100,000 and 1,000,000 subscribers (about 90 s on the shared 2 cores). Quick:
the 1,000,000-subscriber cases left out and 0.02 s per repetition (about 10 s).
"""
import json
import os
import subprocess

from benchlib import BenchError, Figure, Ratio, Section

# Each measured piece and its baseline in the same run: the same benchmark name
# with this prefix instead (e.g. ParseEvent/risk_alert beside JsonParse/risk_alert).
BASELINES = {
    "ParseEvent": "JsonParse",
    "ParseEventOverLimit": "JsonParse",
    "IngestCheck": "JsonParse",
    "PlanAudience": "WalkCandidates",
    "ParseDelivery": "JsonParseDelivery",
    "RenderTemplate": "KainjowRender",
    "RenderDelivery": "KainjowRender",
    "CountSmsParts": "DecodeUtf8",
    "TokenBucketTake": "ClockUnderMutex",
}

DESCRIPTION = """\
`bench_micro` (bench/micro/, Google Benchmark from Debian's `libbenchmark-dev`), one program
run with `--benchmark_repetitions` = runs; each figure holds the **items per second** of each
repetition (Google Benchmark's `items_per_second`; per CPU second of the benchmark's thread,
except the token bucket's, which are per wall second over all its threads). An item is:

- **ParseEvent**: one published event through `parse_event` (what fanout does with each
  `events` record): an `ipo_subscription`, an urgent `risk_alert`, an `allotment_result` naming
  800 accounts with lots, shares and amount (about 59 KB); `ParseEventOverLimit`: the same with
  1,000 accounts (73 KB, over the 64 KiB event limit, so `parse_event` refuses it: measured as
  `json::parse` + `parse_event_json`). **IngestCheck**: what ingest does with a published body
  before Kafka (split, validate, canonical JSON for the duplicate hash). Baseline
  **JsonParse**: `boost::json::parse` of the same text alone.
- **PlanAudience**: one delivery (planned or suppressed) out of `AudiencePlanner::plan` over a
  generated directory of 100,000 or 1,000,000 subscribers (20/20/60% advisor/research/basic,
  about 5 holdings each, 600519.SH held by every tenth): `ipo_subscription` to all, `risk_alert`
  to the holders of 600519.SH, `stock_pick` narrowed to advisor and research.
  **PlanAudienceAndSerialize** adds `serialize()` of each delivery, the fanout role's work
  before Kafka. Baseline **WalkCandidates**: the same candidates walked and the same deliveries
  counted, none built (the memory floor). **MakeDeliveryId**: the SHA-256 delivery id alone.
- **RenderTemplate**: one message through `TemplateSet::render` with the project's templates
  (a zh-CN `risk_alert` SMS, an en `ipo_subscription` e-mail with subject, text and HTML);
  **RenderDelivery**: dispatch's `DeliveryRenderer::render` (template variables, render, part
  limit, the connector's message). Baseline **KainjowRender**: kainjow::mustache rendering the
  same template text with the data already converted. **SerializeDelivery** and
  **ParseDelivery**: the delivery record written by fanout (one per delivery planned) and read
  by dispatch; baseline **JsonParseDelivery**: `boost::json::parse` of the same record.
- **CountSmsParts**: `compose_sms` with the signature 【阳光证券】 then `count_sms_parts`, for
  Chinese texts of 70, 71 and 300 characters (signature included: 1, 2, 5 UCS-2 parts) and
  unsigned GSM-7 texts of 160, 161, 300 characters. Baseline **DecodeUtf8**: decoding the same
  text's code points alone.
- **TokenBucketTake**: one `TokenBucket::take()` that gets a token (system clock), by 1 thread
  and by 2 threads sharing the bucket. Baseline **ClockUnderMutex**: the same clock read under
  a `std::mutex`.
"""


def _benchmark_argv(ctx):
    argv = [ctx.program("micro", "bench_micro"), f"--benchmark_repetitions={ctx.runs}",
            "--benchmark_format=json"]
    if ctx.quick:
        argv += ["--benchmark_min_time=0.02", "--benchmark_filter=-:1000000$"]
    else:
        argv += ["--benchmark_min_time=0.2"]
    return argv


def _run(ctx, argv, timeout):
    ctx.log("$ " + " ".join(argv))
    env = {**os.environ, "SUNBEAM_SOURCE_DIR": str(ctx.root)}
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise BenchError(f"bench_micro did not finish within {timeout} s") from None
    if p.returncode != 0:
        tail = "\n".join(p.stderr.strip().splitlines()[-8:])
        raise BenchError(f"bench_micro exited with {p.returncode}: {tail}")
    try:
        return json.loads(p.stdout)
    except json.JSONDecodeError as e:
        raise BenchError(f"bench_micro printed no JSON report: {e}") from None


def _collect(report):
    """name -> (items/s of each repetition, label, deliveries); and the errors."""
    per_name, errors = {}, {}
    for b in report.get("benchmarks", []):
        if b.get("run_type") != "iteration":
            continue  # mean, median, stddev, cv: the driver computes its own
        name = b["run_name"]
        if b.get("error_occurred"):
            errors[name] = b.get("error_message", "error")
            continue
        if "items_per_second" not in b:
            raise BenchError(f"bench_micro: {name} reported no items_per_second")
        runs, label, deliveries = per_name.setdefault(name, ([], b.get("label", ""), b.get("deliveries")))
        runs.append(b["items_per_second"])
    return per_name, errors


def run(ctx):
    timeout = 120 if ctx.quick else 600
    report = _run(ctx, _benchmark_argv(ctx), timeout)
    per_name, errors = _collect(report)
    if not per_name:
        raise BenchError("bench_micro measured nothing")

    figures, notes = [], []
    for name, (runs, label, deliveries) in per_name.items():
        figures.append(Figure(name, runs, unit="/s", better="higher"))
        extra = []
        if label:
            extra.append(label)
        if deliveries:
            extra.append(f"{int(deliveries):,} deliveries a plan")
        if extra:
            notes.append(f"- `{name}`: {'; '.join(extra)}")
    for name, message in errors.items():
        notes.append(f"- `{name}` failed: {message}")

    ratios = []
    for name in per_name:
        prefix, _, rest = name.partition("/")
        baseline = BASELINES.get(prefix)
        if baseline and f"{baseline}/{rest}" in per_name:
            ratios.append(Ratio(f"{name} / {baseline}/{rest}", f"micro.{name}", f"micro.{baseline}/{rest}"))

    context = report.get("context", {})
    machine = (f"bench_micro on {context.get('num_cpus', '?')} CPUs at {context.get('mhz_per_cpu', '?')} MHz, "
               f"load average {', '.join(f'{x:.1f}' for x in context.get('load_avg', []))} at the start; "
               f"Google Benchmark's library is a {context.get('library_build_type', '?')} build "
               "(Debian's; it times the loop, our code is RelWithDebInfo).")
    mode = ("Quick: the 1,000,000-subscriber cases left out, 0.02 s a repetition."
            if ctx.quick else "Full: every case, 0.2 s of CPU a repetition at least.")
    return [Section(key="micro", title="Micro-benchmarks: the hot pieces beside their baselines",
                    command="scripts/bench --only micro", description=DESCRIPTION,
                    figures=figures, ratios=ratios,
                    notes="\n".join([mode, machine, ""] + notes))]
