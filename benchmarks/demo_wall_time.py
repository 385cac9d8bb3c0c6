"""Wall time of the demo DAG end to end: `snakemake --profile profiles/demo`, in a temporary folder.

The run starts from nothing (no results, no data), with this checkout's Snakefile and the demo
profile as a user runs them. --quick runs a dry run of the demo, then the demo DAG on a
reduced config (fewer images, epochs, seeds and starts; the first model group only), which
times the job start-ups more than the training. --against REV also runs the demo of another
revision of this checkout, from a detached git worktree of it (removed afterwards) with the
same Python, in a fresh temporary folder of its own, and reports both wall times and their
ratio (this checkout's over REV's).

    python benchmarks/demo_wall_time.py [--quick] [--keep] [--against REV]
"""

import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import yaml
from common import REPO, emit, make_parser, print_table

TARGET_SECONDS = 300
TARGET_RATIO = 0.5  # this checkout's wall time over REV's


def reduced_demo_config(checkout: Path) -> dict:
    """The demo config cut down to about a minute: every rule, but the first model group only, two seeds, tiny sizes."""
    config = yaml.safe_load((checkout / "config" / "demo.yaml").read_text())
    config["dataset"].update(train_size=100, test_size=100)
    config["training"]["epochs"] = 2
    config["gan"]["epochs"] = 2
    config["patterns"].update(starts=2, iterations=5)
    group = config["models"][0]
    config["models"] = [dict(group, seeds=group["seeds"][:2])]
    name, in_use = group.get("name", group["arch"]), set(group["conditions"])
    kept = {f"{name}-s{seed}" for seed in group["seeds"][:2]}
    config["dissection"]["compare"] = [
        network for network in config["dissection"]["compare"] if network in kept
    ]
    for figure in config.get("figures", {}).values():
        for key in ("conditions", "ablations"):
            if key in figure:
                figure[key] = [condition for condition in figure[key] if condition in in_use]
    return config


def snakemake(checkout: Path, workdir: Path, *arguments) -> tuple[float, str]:
    """Run the checkout's demo profile in workdir; returns (seconds, output). Fails loudly on a failed run."""
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(checkout / "Snakefile"),
        "--directory",
        str(workdir),
        "--profile",
        str(checkout / "profiles" / "demo"),
        *arguments,
    ]
    started = time.perf_counter()
    result = subprocess.run(
        command,
        cwd=checkout,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=3600,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed after {seconds:.0f}s:\n{result.stdout[-4000:]}")
    return seconds, result.stdout


def planned_jobs(dry_run_output: str) -> dict[str, int]:
    """The dry run's job-stats table as {rule: count}."""
    table = dry_run_output.split("Job stats:")[-1]
    return {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.MULTILINE)
        if m.group(1) != "total"
    }


def rule_seconds(workdir: Path) -> dict[str, float]:
    """Seconds per rule, summed over its jobs, from the workflow's benchmark files."""
    import pandas as pd

    folder = workdir / "results" / "benchmarks"
    totals: dict[str, float] = {}
    for path in sorted(folder.glob("**/*.tsv")):
        rule = (
            path.relative_to(folder).parts[0].removesuffix(".tsv")
        )  # <rule>.tsv or <rule>/<job>.tsv
        totals[rule] = totals.get(rule, 0.0) + float(pd.read_csv(path, sep="\t")["s"].sum())
    return totals


def time_demo(checkout: Path, quick: bool, keep: bool) -> dict:
    """The checkout's demo (or, quick, its reduced demo) in a fresh temporary folder: jobs per rule, dry-run
    and end-to-end seconds, and seconds per rule from the workflow's benchmark files."""
    workdir = Path(tempfile.mkdtemp(prefix="memdissect-demo-"))
    try:
        dry_seconds, dry_output = snakemake(checkout, workdir, "--dry-run")
        jobs = planned_jobs(dry_output)
        arguments = []
        if quick:
            config_path = workdir / "reduced-demo.yaml"
            config_path.write_text(yaml.safe_dump(reduced_demo_config(checkout), sort_keys=False))
            arguments = ["--configfile", str(config_path)]  # overrides the profile's configfile
            jobs = planned_jobs(snakemake(checkout, workdir, "--dry-run", *arguments)[1])
        seconds, _ = snakemake(checkout, workdir, *arguments)
        return {
            "jobs": jobs,
            "dry_run_seconds": dry_seconds,
            "wall_seconds": seconds,
            "rule_seconds": rule_seconds(workdir),
        }
    finally:
        if keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def git(*arguments) -> str:
    return subprocess.run(
        ["git", "-C", str(REPO), *arguments], check=True, capture_output=True, text=True
    ).stdout.strip()


@contextmanager
def worktree(revision: str):
    """A detached worktree of `revision` of this checkout in a temporary folder, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="memdissect-revision-"))
    path = folder / "checkout"
    git("worktree", "add", "--detach", str(path), revision)
    try:
        yield path
    finally:
        git("worktree", "remove", "--force", str(path))
        shutil.rmtree(folder, ignore_errors=True)


def report(figures: dict, against: dict | None, revision: str, quick: bool) -> None:
    """Jobs and seconds per rule (of both runs, with --against), then the wall times."""
    rules = list(dict.fromkeys([*figures["jobs"], *(against["jobs"] if against else [])]))
    columns = ["rule", "jobs", "seconds (benchmark files)"]
    rows = [
        {
            "rule": rule,
            "jobs": figures["jobs"].get(rule, ""),
            "seconds (benchmark files)": figures["rule_seconds"].get(rule, ""),
        }
        for rule in rules
    ]
    if against:
        columns += [f"jobs ({revision})", f"seconds ({revision})"]
        for row in rows:
            row[f"jobs ({revision})"] = against["jobs"].get(row["rule"], "")
            row[f"seconds ({revision})"] = against["rule_seconds"].get(row["rule"], "")
    print_table(
        rows,
        columns,
        title=f"{'reduced ' if quick else ''}demo DAG, {sum(figures['jobs'].values())} jobs"
        + (f" ({sum(against['jobs'].values())} at {revision})" if against else ""),
    )
    print(
        f"dry run {figures['dry_run_seconds']:.1f}s; end to end {figures['wall_seconds']:.1f}s "
        f"(target for the full demo: <= {TARGET_SECONDS}s)"
    )
    if against:
        print(
            f"{revision}: dry run {against['dry_run_seconds']:.1f}s; end to end {against['wall_seconds']:.1f}s; "
            f"this checkout / {revision}: {figures['wall_seconds'] / against['wall_seconds']:.2f} "
            f"(target <= {TARGET_RATIO:g})"
        )


def main():
    parser = make_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary work folders and say where they are"
    )
    parser.add_argument(
        "--against",
        metavar="REV",
        help="also run the demo of this git revision of the checkout (a worktree, removed afterwards)",
    )
    args = parser.parse_args()
    figures = time_demo(REPO, args.quick, args.keep)
    against = None
    if args.against:
        commit = git("rev-parse", "--verify", f"{args.against}^{{commit}}")
        with worktree(commit) as checkout:
            against = time_demo(checkout, args.quick, args.keep)
    report(figures, against, args.against, args.quick)
    result = {
        "benchmark": "demo_wall_time",
        "quick": args.quick,
        "config": "reduced demo" if args.quick else "demo",
        "jobs": sum(figures["jobs"].values()),
        "dry_run_seconds": figures["dry_run_seconds"],
        "wall_seconds": figures["wall_seconds"],
        "rule_seconds": figures["rule_seconds"],
    }
    targets = (
        {}
        if args.quick
        else {f"wall_seconds<={TARGET_SECONDS}": figures["wall_seconds"] <= TARGET_SECONDS}
    )
    if against:
        ratio = figures["wall_seconds"] / against["wall_seconds"]
        result["against"] = {
            "revision": args.against,
            "commit": commit,
            "jobs": sum(against["jobs"].values()),
            "dry_run_seconds": against["dry_run_seconds"],
            "wall_seconds": against["wall_seconds"],
            "rule_seconds": against["rule_seconds"],
        }
        result["ratio"] = ratio
        targets[f"ratio<={TARGET_RATIO:g}"] = ratio <= TARGET_RATIO
    if targets:
        result["targets_met"] = targets
    emit(result, args.out)


if __name__ == "__main__":
    main()
