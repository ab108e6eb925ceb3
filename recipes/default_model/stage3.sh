#!/usr/bin/env bash
# Stage 3 of the 0.6.0 default English model (0.7.0's is stage4_gpu.sh): Piper's natural voice, open English
# text and speed/telephone augmentation, fine-tuned from the stage-2 model (argument 1, default: recipe-work/previous_default.pt,
# a copy of the model this stage started from). Writes ctctool/models/default_en.pt and .arpa.gz and docs/.
# About 3 hours on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${WORK:-recipe-work}
INIT=${1:-$WORK/previous_default.pt}
bash recipes/default_model/data.sh
# a Piper dev set with word timings from Piper's phoneme durations, for the boundary calibration
python tools/make_piper_set.py "$WORK/piper_dev_timed" --num 150 --seed 14 --prefix pdt_ --text "$WORK/text/dev.txt" \
  --timings --lossy-prob 0 --snr 15:30 --noise-prob 0.3
ctctool train "$WORK/mix_train" --dev "$WORK/mix_dev" --init "$INIT" --out "$WORK/stage3.pt" --epochs 6 \
  --learning-rate 8e-4 --threads 2 --seed 3
# a warm restart to 12 epochs: the cosine stretches to the new end, so the learning rate comes back at
# 4e-4 and decays to zero over 6 more epochs (dev CER was still falling after 6)
ctctool train "$WORK/mix_train" --dev "$WORK/mix_dev" --out "$WORK/stage3.pt" --epochs 12 \
  --learning-rate 8e-4 --threads 2 --seed 3 --resume
python recipes/default_model/finish.py "$WORK/stage3.pt" ctctool/models/default_en.pt "$INIT" \
  --calibrate "$WORK/espeak_dev" --calibrate "$WORK/piper_dev_timed"
python recipes/default_model/lm_text.py "$WORK/text/lm_train.txt" "$WORK/lm_train_normalised.txt"
ctctool lm "$WORK/lm_train_normalised.txt" --order 3 -o ctctool/models/default_en.arpa.gz
python bench/bench_real_speech.py --model ctctool/models/default_en.pt --json "$WORK/real_speech.json"
python recipes/default_model/report.py ctctool/models/default_en.pt --docs docs --lm ctctool/models/default_en.arpa.gz \
  --eval espeak_eval="$WORK/espeak_eval" --eval piper_eval="$WORK/piper_eval" --eval tts_eval="$WORK/tts_eval" \
  --real "$WORK/real_speech.json"
