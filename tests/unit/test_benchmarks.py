"""The benchmarks run on the package as it is: their pattern searches at a tiny size, on the CPU."""

import json
import subprocess
import sys
from argparse import Namespace

import torch
from conftest import REPO

from memdissect.study.settings import PatternSettings


def test_the_pattern_search_benchmark_runs_and_its_two_methods_agree(tmp_path):
    out = tmp_path / "result.json"
    command = [sys.executable, REPO / "benchmarks/pattern_search.py", "--quick", "--device", "cpu"]
    command += ["--starts", "2", "--iterations", "2", "--loop-rows", "4", "--out", out]
    subprocess.run(command, check=True, capture_output=True, cwd=tmp_path)
    result = json.loads(out.read_text())
    assert result["agree"] and result["starts"] == 2 and result["batched_seconds"] > 0


def test_the_gpu_suites_pattern_search_times_the_search_and_an_evaluation(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))
    import gpu_suite

    settings = PatternSettings(starts=1, iterations=2, chunk_size=10)
    args = Namespace(width=0.0625, classes=10)
    timed = gpu_suite.pattern_search("vgg11", settings, args, torch.device("cpu"))
    assert timed["seconds"] > 0 and timed["evaluate_seconds"] > 0
