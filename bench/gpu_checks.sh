#!/usr/bin/env bash
# On a GPU machine: the CUDA/CPU parity tests (skipped where there is no GPU), then batched emissions, align and
# transcribe of MANIFEST on the GPU with the built-in model, each with its --json summary (audio hours, wall
# seconds, real-time factor): the GPU figures of docs/scaling.md's capacity plan.
#
#     bash bench/gpu_checks.sh corpus.jsonl [LOG_DIR] [BATCH_SIZE]
set -uo pipefail
cd "$(dirname "$0")/.."
MANIFEST=${1:?usage: bench/gpu_checks.sh MANIFEST [LOG_DIR] [BATCH_SIZE]}
LOG=${2:-gpu-checks}
BATCH=${3:-32}
PYTHON=${PYTHON:-python3}
mkdir -p "$LOG"
nvidia-smi -L | tee "$LOG/device.txt"
$PYTHON -c "import torch, sys; print('torch', torch.__version__, 'python', sys.version.split()[0])" | tee -a "$LOG/device.txt"
$PYTHON -m pytest -q -p no:cacheprovider -rs -k cuda tests/test_align.py tests/test_audio.py \
  tests/test_batched_inference.py tests/test_ctc_kernel.py tests/test_decode.py tests/test_hf_model.py \
  tests/test_hf_subword_model.py tests/test_loss.py tests/test_subword.py tests/test_train.py 2>&1 | tee "$LOG/cuda_tests.log" | tail -15
WORK=$(mktemp -d)
for command in emissions align transcribe; do
  $PYTHON -m ctctool "$command" --manifest "$MANIFEST" --out-dir "$WORK/$command" --batch-size "$BATCH" --device cuda \
    --json > "$LOG/$command.json" 2> "$LOG/$command.err"
  echo "$command (exit $?): $(cat "$LOG/$command.json")"
done
rm -rf "$WORK"
