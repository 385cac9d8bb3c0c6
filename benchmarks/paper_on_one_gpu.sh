#!/usr/bin/env bash
# The paper's VGG11 at full scale on one GPU, in one prepared run of the workflow itself.
#
#   benchmarks/paper_on_one_gpu.sh [--archive FILE] [--wheels DIR] [--out DIR] [--deadline SECONDS]
#                                  [--scale full|check]
#
# What it does, in order, and where the time goes on one H100 or H200 (from benchmarks/README.md's
# GPU figures; the whole run is meant to end in about 8 minutes, install included):
#   1. install: the README's first line (`python3 -m venv .venv`, `pip install -e .`), with the
#      node's own CUDA build of PyTorch kept (--system-site-packages) and, with --wheels, from a
#      folder of wheels (pip --no-index) where the node has no package index        ~1 min
#   2. the CIFAR-10 JPEG archive unpacked into data/cifar10-jpeg/ (ignored by git)   ~10 s
#   3. `memdissect doctor` and `python -m pytest -m cuda`                             ~2 min
#   4. `snakemake --profile profiles/gpu-node` on the paper's study of VGG11: seeds 1 and 2 on X_T
#      and X_R (100 epochs, SGD lr 0.01, momentum 0.9, batch 128, weight decay 1e-4 on X_T only),
#      the DCGAN (30 epochs), 100 starts x 1000 iterations of pattern search per class of f1 =
#      vgg11-s1, Dist, Figures 1 to 3 (4 and 5 come with them). The four classifiers train in one
#      process (memdissect.training.sharing.together), each step a CUDA graph: about 0.8 s per epoch for all four
#      (four jobs sharing an H100 measured 0.82 s), 100 epochs with the test set each: ~2 min; the
#      DCGAN beside them (2.8 s an epoch alone): ~1.5 min; two pattern jobs ~0.5 min  ~4 min
#   5. the records gathered into --out, eight files: run.log (all of the above and a digest of the
#      records), doctor.txt, pytest_cuda.txt, summary.md, histories.csv, jobs.tsv (Snakemake's
#      benchmark of each job), dist_summary.csv, run.tar.gz (the logs, figures and study config)
#
# The workflow runs under a deadline (--deadline, 540 s from the start by default): Snakemake is
# stopped with SIGINT where it would overrun, and what finished is still gathered (a killed job
# resumes from its resume state when the script is run again). Both seeds are needed: Dist is
# vgg11-s1 against vgg11-s2 on each label set, so a shorter run keeps the seeds and stops early
# rather than drop the pair. The doctor's measured throughput gives a projection in the log.
#
# --scale check runs the same steps on a CPU in a few minutes (a CIFAR-10 subset, narrow models,
# few epochs), to test this script where no GPU is at hand.
#
# To carry to a node without a package index: `benchmarks/paper_on_one_gpu.sh --download-wheels
# .whl 3.12` here (wheels for that Python), then pass --wheels .whl there.
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
STARTED=$(date +%s)

archive=data/cifar10-jpeg.tar.gz
wheels=""
out=${OUT:-benchmarks/results/paper_on_one_gpu}
deadline=540
scale=full
while [[ $# -gt 0 ]]; do
  case $1 in
    --archive) archive=$2; shift 2 ;;
    --wheels) wheels=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --deadline) deadline=$2; shift 2 ;;
    --scale) scale=$2; shift 2 ;;
    --download-wheels)
      # every wheel `pip install -e .` needs that the node's own image may lack, for one Python version
      # (memdissect's dependencies that a GPU image may lack, and what builds memdissect itself)
      folder=$2 version=${3:-3.12}
      python3 -m pip wheel --quiet -w "$folder" "snakemake>=9,<10" "snakemake-executor-plugin-slurm>=1.0" pulp \
        jsonschema "setuptools>=68" wheel || exit 1
      # wheels built for this Python but not pure Python: the same version again, for the node's Python
      for built in "$folder"/*.whl; do
        [[ $built == *-none-any.whl ]] && continue
        name_version=$(basename "$built" | cut -d- -f1,2)
        python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version "$version" \
          --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
          --platform manylinux2014_x86_64 -d "$folder" "${name_version/-/==}" && rm "$built"
      done
      # the large ones a PyTorch GPU image holds already
      for name in numpy pandas pyarrow scipy matplotlib pillow sympy networkx; do rm -f "$folder/$name"-*.whl; done
      du -sh "$folder"; exit 0 ;;
    -h|--help) sed -n '2,35p' "$0"; exit 0 ;;
    *) echo "unknown option $1; valid: --archive, --wheels, --out, --deadline, --scale, --download-wheels" >&2
       exit 2 ;;
  esac
done
[[ $scale == full || $scale == check ]] || { echo "--scale: '$scale' is not full or check" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
exec > >(tee "$out/run.log") 2>&1
elapsed() { echo $(( $(date +%s) - STARTED )); }
step() { echo; echo "== [$(elapsed) s] $*"; }

step "install (the README's first line)"
if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv --system-site-packages .venv  # the node's CUDA build of PyTorch, where it has one
fi
. .venv/bin/activate
if [[ -n $wheels ]]; then
  pip install --quiet --no-index --find-links "$wheels" -e . || exit 1
else
  pip install --quiet -e . || exit 1
fi
python -c "import torch, snakemake; print('torch', torch.__version__, 'CUDA', torch.version.cuda, \
'GPU', torch.cuda.get_device_name() if torch.cuda.is_available() else 'none', 'snakemake', snakemake.__version__)"

step "CIFAR-10 from $archive"
images=data/cifar10-jpeg
if [[ ! -d $images/train ]]; then
  [[ -f $archive ]] || { echo "no archive at $archive; valid: --archive <the CIFAR-10 JPEG .tar.gz>" >&2; exit 2; }
  mkdir -p "$images" && tar xzf "$archive" -C "$images" || exit 1
fi
echo "$(find "$images/train" -type f | wc -l) training and $(find "$images/test" -type f | wc -l) test images"

step "memdissect doctor"
memdissect doctor | tee "$out/doctor.txt"
doctor_code=${PIPESTATUS[0]}
step "python -m pytest -m cuda"
timeout 240 python -m pytest -q -m cuda -p no:cacheprovider tests 2>&1 | tail -n 25 > "$out/pytest_cuda.txt"
cat "$out/pytest_cuda.txt"

# The study: the paper's recipe for VGG11 (config/config.yaml), at full scale or, to check this script, small.
if [[ $scale == full ]]; then
  epochs=100 gan_epochs=30 starts=100 iterations=1000 width=1.0 subset="" gan_width=1.0
else
  epochs=3 gan_epochs=2 starts=4 iterations=20 width=0.125 gan_width=0.125
  subset="  subset: {train_per_class: 40, test_per_class: 10, seed: 0}"
fi
# The doctor's first steps give the images/s of one VGG11; four side by side are at least twice as fast
# together (four jobs on one H100: 0.82 s per epoch for all, against 0.64 s for one graphed).
ips=$(grep -oE 'steps 6-10 [0-9.]+ images/s' "$out/doctor.txt" | grep -oE '[0-9.]+' | tail -n 1 || true)
if [[ -n $ips ]]; then
  projected=$(python -c "print(round($epochs * 60000 * 4 / $ips / 2))")
  echo "projected training: $projected s for 4 models of $epochs epochs ($ips images/s alone, at least 2x together);" \
       "$(( deadline - $(elapsed) - 150 )) s left before the DCGAN's tail, the patterns, Dist and figures"
fi
run=$REPO/runs/paper_vgg11_$scale
mkdir -p "$run"
cat > "$run/config.yaml" <<YAML
# The paper's VGG11 study (config/config.yaml's recipe) on one GPU: benchmarks/paper_on_one_gpu.sh
dataset:
  kind: imagefolder
  root: $REPO/$images
  num_classes: 10
$subset
training: {epochs: $epochs, batch_size: 128, lr: 0.01, momentum: 0.9, weight_decay: 0.0, augment: false,
           grad_mode: step, precision: auto, width: $width}
conditions:
  true_labels: {noise: 0.0, weight_decay: 1.0e-4}
  random_labels: {noise: 1.0}
models:
  - {arch: vgg11, seeds: [1, 2], conditions: [true_labels, random_labels]}
gan: {epochs: $gan_epochs, batch_size: 128, lr: 2.0e-4, beta1: 0.5, width: $gan_width, seed: 0}
patterns: {starts: $starts, iterations: $iterations, lr: 0.05, objective: logit, optimizer: sgd,
           latent_constraint: none, seed: 0, precision: auto}
dissection: {reference: vgg11-s1, compare: [vgg11-s2]}
YAML
grep -v '^$' "$run/config.yaml"

step "snakemake --profile profiles/gpu-node (deadline $deadline s from the start)"
budget=$(( deadline - $(elapsed) - 30 ))
(cd "$run" && timeout -s INT -k 60 "$budget" snakemake -s "$REPO/Snakefile" --configfile config.yaml \
   --replace-workflow-config --profile "$REPO/profiles/gpu-node" --benchmark-extended)
snakemake_code=$?
[[ $snakemake_code == 124 ]] && echo "stopped at the deadline: what finished is gathered below"

step "records"
python - "$run" "$out" <<'PY'
import sys
from pathlib import Path

import pandas as pd

run, out = Path(sys.argv[1]), Path(sys.argv[2])
histories = []
for path in sorted(run.glob("results/models/*/history.parquet")):
    frame = pd.read_parquet(path).assign(model=path.parent.name)
    histories.append(frame)
    last = frame.iloc[-1]
    graph = frame["cuda_graph"].iloc[-1] if "cuda_graph" in frame else "?"
    print(f"{path.parent.name}: {len(frame)} epochs, train {last.train_acc:.2%}, test {last.test_acc:.2%} "
          f"(paper: 100% train; 83.73% test on X_T, about 10% on X_R), {frame.seconds.median():.2f} s per "
          f"epoch (median), precision {last.precision}, CUDA graph {graph}")
if histories:
    pd.concat(histories).to_csv(out / "histories.csv", index=False)
jobs = [pd.read_csv(path, sep="\t").assign(job=str(path.relative_to(run / "results/benchmarks")))
        for path in sorted(run.glob("results/benchmarks/**/*.tsv"))]
if jobs:
    table = pd.concat(jobs)
    table.to_csv(out / "jobs.tsv", sep="\t", index=False)
    print(table[["job", "s"]].to_string(index=False))
summary = run / "results/dist/dist_summary.csv"
if summary.exists():
    frame = pd.read_csv(summary)
    print(frame[["f1", "f2", "dist_mean", "dist_ci_low", "dist_ci_high", "relabeled_ratio"]].to_string(index=False))
    frame.to_csv(out / "dist_summary.csv", index=False)
PY
cp "$run/results/summary.md" "$out/" 2>/dev/null || echo "no summary.md: the study did not finish"
tar czf "$out/run.tar.gz" -C "$run" logs results/figures results/study_config.yaml results/patterns/diagnostics_summary.csv \
  .snakemake/log 2>/dev/null
step "done: doctor exit $doctor_code, snakemake exit $snakemake_code; files in $out"
ls -l "$out"
[[ $doctor_code == 0 && $snakemake_code == 0 ]]
