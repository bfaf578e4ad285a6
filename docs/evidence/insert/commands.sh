#!/usr/bin/env bash
# The measurements docs/insert.md and the README cite, in the order they were run (on
# 2 CPU cores, one job at a time). Each prints its wall time.
set -euo pipefail
cd "$(dirname "$0")/../../.."
E=docs/evidence/insert
timed() { local label=$1; shift; /usr/bin/time -f "$label: %e s" "$@"; }

# 1. A trained network: compare's baseline ResNet on the built-in task (8 epochs, as in
#    docs/evidence/resnet), saved; CBAM trained from scratch beside it.
timed trained cbamgen compare specs/cbam.yaml --seeds 1 --epochs 8 --save-models \
    --out $E/trained --quiet

# 2. Blocks inserted into it as the identity, fine-tuned, against the same network
#    fine-tuned without blocks, seed for seed.
timed fine_tuned cbamgen compare $E/specs/cbam.yaml $E/specs/l2_stochastic.yaml \
    $E/specs/se.yaml --model $E/trained/models/baseline-seed0.keras --identity \
    --seeds 3 --epochs 4 --out $E/fine_tuned --quiet

# 3. keras.applications networks on the built-in task, from scratch: a short run of
#    MobileNetV2, and ResNet50's step time.
timed mobilenetv2 cbamgen compare specs/cbam.yaml specs/se.yaml \
    --model keras.applications.MobileNetV2 --seeds 1 --epochs 3 \
    --out $E/mobilenetv2 --quiet
timed resnet50 cbamgen compare specs/cbam.yaml specs/se.yaml \
    --model keras.applications.ResNet50 --quick --out $E/resnet50_quick --quiet
