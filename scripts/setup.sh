#!/usr/bin/env bash
# Set up (or refresh) the ganshot development environment in .venv.
#  1. Debian packages the tests and real peers need (installed when run as root;
#     otherwise one message with the apt command and exit 1).
#  2. .venv with torch==2.13.0 first (the local CPU wheel; nothing bigger is
#     downloaded), then ganshot itself, editable, with its extras. ONNX Runtime
#     comes as onnxruntime-gpu when `nvidia-smi` finds a GPU, onnxruntime otherwise,
#     never both.
# Re-running is cheap: pip runs only when the packaging, the C mixer's sources or the
# GPU choice changed (the install compiles engine/_cmixer.c with gcc through cffi).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(gcc jackd2 libportaudio2 jack-capture liblo-tools puredata-core fluidsynth fluid-soundfont-gm musescore-general-soundfont libsndfile1 chromium chromium-driver)
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = "0" ]; then
        echo "setup: installing Debian packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        # jackd2 asks about realtime priority; answer no without a prompt.
        echo "jackd2 jackd/tweak_rt_limits boolean false" | debconf-set-selections 2>/dev/null || true
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "setup: missing Debian packages. Run: sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi

if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    ORT_EXTRA=gpu; ORT_OTHER=onnxruntime
else
    ORT_EXTRA=cpu; ORT_OTHER=onnxruntime-gpu
fi

stamp="$VENV/.ganshot-setup"
# The sources, the GPU choice and the compiled mixer's name: computed again after the install,
# so the stamp names the .so the install made (else the second run would install once more).
stamp_now() {
    echo "$(cat pyproject.toml setup.py engine/_mixer_build.py engine/_cmixer.c engine/_cmixer_state.h engine/_cmixer_jack.h engine/_cmixer.h | sha256sum | cut -d' ' -f1) $ORT_EXTRA $(ls engine/_cmixer*.so 2>/dev/null | head -n1 || true)"
}
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(stamp_now)" ]; then
    exit 0
fi

PIP=("$VENV/bin/python" -m pip -q --disable-pip-version-check)
echo "setup: installing torch==2.13.0, then ganshot[train,dev,patterns,$ORT_EXTRA]"
"${PIP[@]}" install torch==2.13.0 2>&1 | grep -v "is ignored: it is neither" || true
"$VENV/bin/python" -c "import torch" || { echo "setup: torch did not install" >&2; exit 1; }
if "$VENV/bin/python" -m pip show "$ORT_OTHER" >/dev/null 2>&1; then
    "${PIP[@]}" uninstall -y "$ORT_OTHER"
fi
"${PIP[@]}" install -e ".[train,dev,patterns,$ORT_EXTRA]" 2>&1 | grep -v "is ignored: it is neither" || true
"$VENV/bin/python" -c "import ganshot.engine._cmixer, onnxruntime, soundfile, soxr" || { echo "setup: ganshot did not install" >&2; exit 1; }
stamp_now > "$stamp"
echo "setup: ready ($VENV, onnxruntime: $ORT_EXTRA)"
