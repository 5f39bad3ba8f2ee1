"""The directory scenario: loading subscribers and holdings from CSV, seconds
and peak RSS, each load in a fresh child process (bench/directory)."""
from benchlib import Figure, Ratio, Section, Target

FULL = [(1_000_000, 5_000_000), (10_000_000, 50_000_000)]
QUICK = [(1_000_000, 5_000_000)]


def run(ctx):
    figures = []
    sizes = QUICK if ctx.quick else FULL
    if "directory_subscribers" in ctx.sizes:
        n = ctx.sizes["directory_subscribers"]
        sizes = [(n, ctx.sizes.get("directory_holdings", 5 * n))]
    for subscribers, holdings in sizes:
        out = ctx.run_json([ctx.program("directory", "bench_directory"), "--subscribers", subscribers,
                            "--holdings", holdings, "--runs", ctx.runs,
                            "--dir", f"{ctx.work}/directory-{subscribers}"], timeout=1800)
        label = f"{subscribers / 1e6:g}M subscribers + {holdings / 1e6:g}M holdings"
        figures += [Figure(f"load s, {label}", out["load_seconds"], unit="s", better="lower"),
                    Figure(f"peak RSS MiB, {label}", out["peak_rss_mib"], unit="MiB", better="lower"),
                    Figure(f"baseline: read the files s, {label}", out["baseline_seconds"], unit="s", better="lower")]
    big = "10M subscribers + 50M holdings"
    ratios = [Ratio(f"load / reading the files, {l}", f"directory.load s, {l}", f"directory.baseline: read the files s, {l}")
              for l in [f"{s / 1e6:g}M subscribers + {h / 1e6:g}M holdings" for s, h in sizes]]
    targets = [] if ctx.quick else [Target("10M subscribers + 50M holdings load under 60 s", f"directory.load s, {big}", "<=", 60),
                                    Target("... and under 6 GiB peak RSS", f"directory.peak RSS MiB, {big}", "<=", 6144)]
    return Section(
        key="directory", title="Directory: loading subscribers and holdings",
        command="scripts/bench --only directory",
        description=(
            "`bench_directory` generates realistic CSVs (Chinese and English names, mainland mobiles, e-mails, a few "
            "opt-outs; holdings over 4,000 symbols with accounts drawn at random, the worst case for locality), then "
            "loads them as the engine does at start (`load_directory`), each load in a fresh child process so its "
            "peak RSS (getrusage of the child) is its own. Baseline in the same run: reading the same files and "
            "counting their lines (the I/O floor)."),
        figures=figures, ratios=ratios, targets=targets)
