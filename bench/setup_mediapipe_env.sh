#!/usr/bin/env bash
# Creates the two separate environments that bench/compare_mediapipe.py runs MediaPipe in.
#
#   bash bench/setup_mediapipe_env.sh [VENV] [TASKS_VENV]
#     VENV:       MediaPipe 0.10.14, the legacy `Pose` solution (default bench/.venv-mediapipe)
#     TASKS_VENV: mediapipe==1.2.2, the Tasks `PoseLandmarker` (default bench/.venv-mediapipe-tasks),
#                 or `none` to build the legacy venv only (as .ci/setup does for the replay tests)
#   both git-ignored.
#
# Two venvs because the two releases need different NumPy majors and one
# `mediapipe` distribution name; 1.2.2 installs with its own declared
# dependencies (NumPy 2 is fine there) and reads the .task bundles from
# $shared/peers/mediapipe-tasks at run time.
#
# MediaPipe 0.10.14 is installed apart from posed's own venv because its native
# bindings are built against NumPy 1.x while posed runs on NumPy 2. It is
# installed without its declared dependencies, then with those its legacy
# Python pose solution imports (matplotlib comes in through `mediapipe.solutions`);
# jax, jaxlib and sounddevice serve Model Maker and audio only. The newest OpenCV
# wheels need NumPy 2, so OpenCV is pinned below 4.11.
#
# The pose solution downloads pose_landmark_lite/heavy.tflite at run time when
# they are missing from its package; this machine has no internet, so the script
# copies them from the shared model directory ($POSED_SHARED_DIR or ../shared).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${1:-bench/.venv-mediapipe}
tasks_venv=${2:-bench/.venv-mediapipe-tasks}
python=${PYTHON:-python3.11}
shared=${POSED_SHARED_DIR:-../shared}

if ! "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "setup_mediapipe_env: $python is not Python 3.11; set PYTHON=/path/to/python3.11" >&2
  exit 2
fi
for model in pose_landmark_lite.tflite pose_landmark_heavy.tflite; do
  if [ ! -f "$shared/models/$model" ]; then
    echo "setup_mediapipe_env: $shared/models/$model is missing; set POSED_SHARED_DIR" >&2
    exit 2
  fi
done

[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q --no-deps "mediapipe==0.10.14"
"$venv/bin/python" -m pip install -q "numpy<2" "protobuf>=4.25.3,<5" absl-py "attrs>=19.1.0" \
  "flatbuffers>=2.0" "opencv-contrib-python-headless<4.11" matplotlib psutil

package=$("$venv/bin/python" -c 'import mediapipe, os; print(os.path.dirname(mediapipe.__file__))')
cp "$shared/models/pose_landmark_lite.tflite" "$shared/models/pose_landmark_heavy.tflite" \
  "$package/modules/pose_landmark/"
"$venv/bin/python" -c 'import mediapipe as mp; mp.solutions.pose.Pose(model_complexity=2).close()'
echo "MediaPipe $("$venv/bin/python" -c 'import mediapipe; print(mediapipe.__version__)') ready in $venv"

[ "$tasks_venv" = none ] && exit 0
[ -x "$tasks_venv/bin/python" ] || "$python" -m venv "$tasks_venv"
"$tasks_venv/bin/python" -m pip install -q --upgrade pip
"$tasks_venv/bin/python" -m pip install -q "mediapipe==1.2.2" psutil
"$tasks_venv/bin/python" -c 'from mediapipe.tasks.python import vision; print(vision.PoseLandmarker.__name__)' >/dev/null
echo "MediaPipe Tasks $("$tasks_venv/bin/python" -c 'import mediapipe; print(mediapipe.__version__)') ready in $tasks_venv"
