"""Wall time of the demo DAG end to end: `snakemake --profile profiles/demo`, in a temporary folder.

The run starts from nothing (no results, no data), with this checkout's Snakefile and the demo
profile as a user runs them. --quick runs a dry run of the demo, then the demo DAG on a
reduced config (fewer images, epochs, seeds and starts; the first model group only), which
times the job start-ups more than the training.

    python benchmarks/demo_wall_time.py [--quick] [--keep]
"""

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from common import REPO, emit, make_parser, print_table

TARGET_SECONDS = 300
PROFILE = REPO / "profiles" / "demo"


def reduced_demo_config() -> dict:
    """The demo config cut down to about a minute: every rule, but the first model group only, two seeds, tiny sizes."""
    config = yaml.safe_load((REPO / "config" / "demo.yaml").read_text())
    config["dataset"].update(train_size=100, test_size=100)
    config["training"]["epochs"] = 2
    config["gan"]["epochs"] = 2
    config["patterns"].update(starts=2, iterations=5)
    group = config["models"][0]
    config["models"] = [dict(group, seeds=group["seeds"][:2])]
    name, in_use = group.get("name", group["arch"]), set(group["conditions"])
    kept = {f"{name}-s{seed}" for seed in group["seeds"][:2]}
    config["dissection"]["compare"] = [network for network in config["dissection"]["compare"] if network in kept]
    for figure in config.get("figures", {}).values():
        for key in ("conditions", "ablations"):
            if key in figure:
                figure[key] = [condition for condition in figure[key] if condition in in_use]
    return config


def snakemake(workdir: Path, *arguments) -> tuple[float, str]:
    """Run the demo profile in workdir; returns (seconds, output). Fails loudly on a failed run."""
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
               "--profile", str(PROFILE), *arguments]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            timeout=3600)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed after {seconds:.0f}s:\n{result.stdout[-4000:]}")
    return seconds, result.stdout


def planned_jobs(dry_run_output: str) -> dict[str, int]:
    """The dry run's job-stats table as {rule: count}."""
    table = dry_run_output.split("Job stats:")[-1]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.MULTILINE)
            if m.group(1) != "total"}


def rule_seconds(workdir: Path) -> dict[str, float]:
    """Seconds per rule, summed over its jobs, from the workflow's benchmark files."""
    import pandas as pd

    folder = workdir / "results" / "benchmarks"
    totals: dict[str, float] = {}
    for path in sorted(folder.glob("**/*.tsv")):
        rule = path.relative_to(folder).parts[0].removesuffix(".tsv")  # <rule>.tsv or <rule>/<job>.tsv
        totals[rule] = totals.get(rule, 0.0) + float(pd.read_csv(path, sep="\t")["s"].sum())
    return totals


def main():
    parser = make_parser(__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and say where it is")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="memdissect-demo-"))
    dry_seconds, dry_output = snakemake(workdir, "--dry-run")
    jobs = planned_jobs(dry_output)
    arguments = []
    if args.quick:
        config_path = workdir / "reduced-demo.yaml"
        config_path.write_text(yaml.safe_dump(reduced_demo_config(), sort_keys=False))
        arguments = ["--configfile", str(config_path)]  # overrides the profile's configfile
        jobs = planned_jobs(snakemake(workdir, "--dry-run", *arguments)[1])
    seconds, _ = snakemake(workdir, *arguments)
    per_rule = rule_seconds(workdir)
    print_table([{"rule": rule, "jobs": count, "seconds (benchmark files)": per_rule.get(rule, "")}
                 for rule, count in jobs.items()], ["rule", "jobs", "seconds (benchmark files)"],
                title=f"{'reduced ' if args.quick else ''}demo DAG, {sum(jobs.values())} jobs")
    print(f"dry run {dry_seconds:.1f}s; end to end {seconds:.1f}s (target for the full demo: <= {TARGET_SECONDS}s)")
    if args.keep:
        print(f"kept {workdir}")
    else:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    result = {"benchmark": "demo_wall_time", "quick": args.quick,
              "config": "reduced demo" if args.quick else "demo", "jobs": sum(jobs.values()),
              "dry_run_seconds": dry_seconds, "wall_seconds": seconds, "rule_seconds": per_rule}
    if not args.quick:
        result["targets_met"] = {f"wall_seconds<={TARGET_SECONDS}": seconds <= TARGET_SECONDS}
    emit(result, args.out)


if __name__ == "__main__":
    main()
