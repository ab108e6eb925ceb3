#!/usr/bin/env bash
# Stage 4 of the default English model (0.7.0, then fine-tuned on the CPU for 0.7.1 to 0.7.4): the medium network (2.1M parameters, `--preset medium`)
# trained from scratch on one GPU, on the stage-3 data (recipe-work/mix_train from data.sh: espeak-ng,
# Piper joe and flite/festival voices reading open English text, 10.4 h) with the usual on-the-fly
# augmentation, watched on recipe-work/mix_dev. It does not start from stages 1-3.
#
# The audio travels to the GPU machine as Ogg Opus (about 16 kbit/s, tools/pack_corpus.py), in two halves,
# because each transfer to the machine used here was limited to 64 MB and its disk was not kept between
# transfers. So the shipped model was trained in two runs on the GPU, then fine-tuned on the CPU, as below:
#   here:  bash recipes/default_model/stage4_gpu.sh pack
#   GPU:   bash recipes/default_model/stage4_gpu.sh train-a   # 11 epochs on half 2 (about 5 minutes on an H100)
#   GPU:   bash recipes/default_model/stage4_gpu.sh train-b   # 8 epochs on half 1, from train-a's weights (3 min)
#   here:  bash recipes/default_model/stage4_gpu.sh train-c   # 2 epochs on all of it as 16-bit WAV, from
#                                                             # train-b's weights (about 70 minutes on 2 cores)
#   here:  bash recipes/default_model/stage4_gpu.sh train-d   # 2 more, with vocal-tract-length perturbation (70 min)
#   here:  bash recipes/default_model/stage4_gpu.sh train-e   # 3 more, adding pitch shifts that keep the formants (105 min)
#   here:  bash recipes/default_model/stage4_gpu.sh train-f   # 2 more, the same augmentation at a lower peak rate (70 min)
#   here:  bash recipes/default_model/stage4_gpu.sh train-g   # 2 more, the same settings, another seed (70 min)
#   here:  bash recipes/default_model/stage4_gpu.sh train-h   # 2 more on data.sh's second round (mix_train2: other
#                                                             # sentences, same voices and settings; 35 min)
#   here:  bash recipes/default_model/stage4_gpu.sh train-i   # 2 more on the third round (mix_train3; 35 min)
#   here:  bash recipes/default_model/stage4_gpu.sh finish    # calibrate, export, measure, report
# finish takes the newest of stage4i.pt / stage4h.pt / stage4g.pt / stage4f.pt / stage4e.pt / stage4d.pt / stage4c.pt / stage4b.pt, each later one only
# if it is newer than the one before: without train-c to train-i it makes the 0.7.0 model, without train-d the
# first 0.7.1 candidate, without train-e the model 0.7.1 shipped, without train-f 0.7.2's, without train-g 0.7.3's,
# without train-h 0.7.4's and 0.7.5's network, without train-i run 8's.
# On a machine that holds both halves, `train` (all of train.jsonl, epochs chosen by gpu_epochs.py to fit
# BUDGET seconds, or EPOCHS) is the simpler recipe; it was not the run that made the shipped model.
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${WORK:-recipe-work}
PACK=${PACK:-gpu-pack}
PYTHON=${PYTHON:-python}
OUT=${STAGE4_DIR:-$WORK/stage4}
WORKERS=${WORKERS:-14}
DEVICE=${DEVICE:-cuda}
weights_only() {  # the weights and history without the optimizer's state: a third of the size
  $PYTHON -c "import sys, torch; p = torch.load(sys.argv[1], weights_only=True); p.pop('train_state', None); torch.save(p, sys.argv[2])" "$1" "$2"
}
cpu_fine_tune() {  # STAGE FROM DATA EPOCHS PEAK_LR SEED [AUGMENTATION...]: a fine-tune on the 16-bit WAV data here
  local stage=$1 from=$2 data=$3 epochs=$4 rate=$5 seed=$6
  shift 6
  $PYTHON -m ctctool train "$WORK/$data" --dev "$WORK/mix_dev" --init "$OUT/stage4$from.pt" "$@" \
    --device "${DEVICE_C:-cpu}" --workers "${WORKERS_C:-1}" --epochs "$epochs" --learning-rate "$rate" --seed "$seed" \
    --out "$OUT/stage4${stage}_full.pt"
  weights_only "$OUT/stage4${stage}_full.pt" "$OUT/stage4$stage.pt"
}
mkdir -p "$OUT"
case "${1:?usage: stage4_gpu.sh pack|train-a|train-b|train-c|train-d|train-e|train-f|train-g|train-h|train-i|train|finish}" in
  pack)
    $PYTHON tools/pack_corpus.py "$WORK/mix_train" "$PACK/train.jsonl" --parts 2
    $PYTHON tools/pack_corpus.py "$WORK/mix_dev" "$PACK/dev.jsonl" --bitrate-level 0.9
    $PYTHON tools/pack_corpus.py "$WORK/mix_dev" "$PACK/devs/dev.jsonl" --bitrate-level 0.9 --every 3
    ;;
  train-a)
    $PYTHON -m ctctool train "$PACK/train.part-2.jsonl" --dev "$PACK/dev.jsonl" --preset medium --features logmel \
      --device "$DEVICE" --workers "$WORKERS" --epochs 11 --seed 4 --out "$OUT/stage4a_full.pt"
    weights_only "$OUT/stage4a_full.pt" "$OUT/stage4a.pt"
    ;;
  train-b)
    $PYTHON -m ctctool train "$PACK/train.part-1.jsonl" --dev "$PACK/devs/dev.jsonl" --init "$OUT/stage4a.pt" \
      --device "$DEVICE" --workers "$WORKERS" --epochs 8 --learning-rate 8e-4 --seed 5 --out "$OUT/stage4b_full.pt"
    weights_only "$OUT/stage4b_full.pt" "$OUT/stage4b.pt"
    ;;
  train-c) cpu_fine_tune c b mix_train 2 3e-4 6 ;;
  train-d) cpu_fine_tune d c mix_train 2 2e-4 7 --vtlp 0.3 ;;
  train-e) cpu_fine_tune e d mix_train 3 2e-4 8 --vtlp 0.3 --pitch 0.3 ;;
  train-f) cpu_fine_tune f e mix_train 2 1.5e-4 9 --vtlp 0.3 --pitch 0.3 ;;
  train-g) cpu_fine_tune g f mix_train 2 1.5e-4 10 --vtlp 0.3 --pitch 0.3 ;;
  train-h) cpu_fine_tune h g mix_train2 2 2e-4 11 --vtlp 0.3 --pitch 0.3 ;;
  train-i) cpu_fine_tune i h mix_train3 2 1.5e-4 12 --vtlp 0.3 --pitch 0.3 ;;
  train)
    if [ -z "${EPOCHS:-}" ]; then
      EPOCHS=$($PYTHON recipes/default_model/gpu_epochs.py "$PACK/train.jsonl" --dev "$PACK/dev.jsonl" \
        --budget "${BUDGET:?set EPOCHS, or BUDGET in seconds}" --workers "$WORKERS" --device "$DEVICE")
    fi
    echo "stage 4: $EPOCHS epochs" >&2
    $PYTHON -m ctctool train "$PACK/train.jsonl" --dev "$PACK/dev.jsonl" --preset medium --features logmel \
      --device "$DEVICE" --workers "$WORKERS" --epochs "$EPOCHS" --seed 4 --out "$OUT/stage4_full.pt"
    weights_only "$OUT/stage4_full.pt" "$OUT/stage4b.pt"  # the name finish takes (no stage4a.pt: one run)
    ;;
  finish)
    [ -d "$WORK/piper_dev_timed" ] || python tools/make_piper_set.py "$WORK/piper_dev_timed" --num 150 --seed 14 --prefix pdt_ --text "$WORK/text/dev.txt" \
      --timings --lossy-prob 0 --snr 15:30 --noise-prob 0.3
    LAST="$OUT/stage4b.pt" EARLIER=""
    if [ -f "$OUT/stage4a.pt" ] && ! [ "$OUT/stage4a.pt" -nt "$OUT/stage4b.pt" ]; then EARLIER="$OUT/stage4a.pt"; fi
    for stage in c d e f g h i; do  # each CPU fine-tune, as long as every one is newer than the one before
      NEXT="$OUT/stage4$stage.pt"
      if [ -f "$NEXT" ] && [ "$LAST" -ot "$NEXT" ]; then EARLIER="$EARLIER $LAST" LAST="$NEXT"; else break; fi
    done
    python recipes/default_model/finish.py "$LAST" ctctool/models/default_en.pt $EARLIER \
      --calibrate "$WORK/espeak_dev" --calibrate "$WORK/piper_dev_timed"
    PS_PYTHON=${PS_PYTHON:-/tmp/psvenv/bin/python}  # pocketsphinx 5 in its own venv (see bench/bench_real_speech.py)
    python bench/bench_real_speech.py --model ctctool/models/default_en.pt --json "$WORK/real_speech.json" \
      --peer-python "$PS_PYTHON"
    for set in espeak_eval piper_dev_timed; do  # how far that peer is from exact timings, beside ctctool
      python bench/bench_align_accuracy.py "$WORK/$set" --model ctctool/models/default_en.pt --peer-python "$PS_PYTHON" \
        > "$WORK/peer_check_$set.json"
    done
    python recipes/default_model/report.py ctctool/models/default_en.pt --docs docs --lm ctctool/models/default_en.arpa.gz \
      --eval espeak_eval="$WORK/espeak_eval" --eval piper_eval="$WORK/piper_eval" --eval tts_eval="$WORK/tts_eval" \
      --real "$WORK/real_speech.json" --peer-check "$WORK/peer_check_espeak_eval.json" \
      --peer-check "$WORK/peer_check_piper_dev_timed.json"
    ;;
  *) echo "stage4_gpu.sh: expected pack, train-a, train-b, train-c, train-d, train-e, train-f, train-g, train-h, train-i, train or finish, got $1" >&2; exit 1 ;;
esac
