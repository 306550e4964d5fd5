#!/usr/bin/env bash
# One command from a fresh machine to a working selfeng-tui: Debian packages, a Docker engine,
# the virtual environment with every extra. Idempotent: a second run only checks.
# As a non-root user the root-only steps are skipped, each with a line saying how to do it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT_DIR=$(pwd)
VENV="$ROOT_DIR/.venv"
# shellcheck disable=SC2206
APT_PACKAGES=(${SELFENG_SETUP_APT_PACKAGES:-docker.io bubblewrap debootstrap tmux chromium python3 python3-pytest util-linux git})
PY=${PYTHON:-python3}
say() { printf 'setup: %s\n' "$*"; }
skip() { printf 'setup: SKIPPED (needs root) %s\n' "$*"; }
is_root() { [ "$(id -u)" -eq 0 ]; }

# --- 1. Debian packages ---------------------------------------------------------------
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  say "Debian packages present: ${APT_PACKAGES[*]}"
elif is_root; then
  say "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  skip "Debian packages ${missing[*]}: run 'sudo apt-get install ${missing[*]}'"
fi

# --- 2. a Docker engine ---------------------------------------------------------------
engine_answers() { timeout 5 docker info >/dev/null 2>&1; }
if engine_answers; then
  say "Docker engine answers"
elif is_root && command -v dockerd >/dev/null; then
  say "starting dockerd"
  nohup dockerd >/var/log/selfeng-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do engine_answers && break; sleep 0.5; done
  engine_answers || { say "dockerd did not start: see /var/log/selfeng-dockerd.log"; exit 1; }
  say "Docker engine started"
else
  skip "Docker engine: run 'sudo dockerd &' (the sandbox falls back to bubblewrap meanwhile)"
fi

# --- 3. the virtual environment --------------------------------------------------------
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { say "Python >= 3.11 is required ($PY)"; exit 1; }
[ -x "$VENV/bin/python" ] || { say "creating $VENV"; "$PY" -m venv "$VENV"; }
stamp="$VENV/.selfeng-installed"
want=$(cat pyproject.toml | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$VENV/bin/python" -c 'import tui_agent' 2>/dev/null; then
  say "virtual environment up to date"
else
  # torch first, pinned: a looser pin pulls gigabytes of CUDA packages.
  "$VENV/bin/python" -c 'import torch' 2>/dev/null || { say "installing torch 2.13.0 (CPU)"; "$VENV/bin/pip" install -q torch==2.13.0; }
  say "installing selfeng-tui with its extras"
  "$VENV/bin/pip" install -q -e ".[dev,local]"
  echo "$want" > "$stamp"
fi

# llama.cpp is built for this CPU's vector instructions but never with AMX: a "native" build on a
# CPU that has AMX uses AMX tiles, and where the kernel does not grant them (virtual machines)
# every generation dies with a general protection fault in ggml_backend_amx_mul_mat. So the
# flags are read off /proc/cpuinfo, AMX left out. They are stamped: a venv built with other
# flags is rebuilt (without pip's cache, whose wheel would keep the old ones).
llama_flags() {
  local cpu args="-DGGML_NATIVE=OFF"
  cpu=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "
  local pair
  for pair in avx:AVX avx2:AVX2 fma:FMA f16c:F16C bmi2:BMI2 avx_vnni:AVX_VNNI avx512f:AVX512 \
    avx512vbmi:AVX512_VBMI avx512_vnni:AVX512_VNNI avx512_bf16:AVX512_BF16; do
    case "$cpu" in *" ${pair%%:*} "*) args="$args -DGGML_${pair#*:}=ON" ;; esac
  done
  echo "$args"
}
if [ "$(uname -m)" = "x86_64" ]; then
  LLAMA_CMAKE_ARGS=${SELFENG_LLAMA_CMAKE_ARGS:-$(llama_flags)}
else
  LLAMA_CMAKE_ARGS=${SELFENG_LLAMA_CMAKE_ARGS:--DGGML_NATIVE=ON}
fi
llama_stamp="$VENV/.selfeng-llama-build"
if [ -f "$llama_stamp" ] && [ "$(cat "$llama_stamp")" = "$LLAMA_CMAKE_ARGS" ]; then
  say "llama-cpp-python built with: $LLAMA_CMAKE_ARGS"
else
  say "building llama-cpp-python with $LLAMA_CMAKE_ARGS (~8 min)"
  CMAKE_ARGS="$LLAMA_CMAKE_ARGS" FORCE_CMAKE=1 "$VENV/bin/pip" install -q --no-cache-dir --force-reinstall \
    --no-deps "llama-cpp-python[server]==$(sed -nE 's/.*llama-cpp-python\[server\]==([0-9.]+).*/\1/p' pyproject.toml)"
  echo "$LLAMA_CMAKE_ARGS" > "$llama_stamp"
fi

# --- 4. the sandbox image ---------------------------------------------------------------
if engine_answers; then
  "$VENV/bin/selfeng-tui" sandbox build
else
  say "no Docker engine: the sandbox image is not built (bubblewrap will be used)"
fi

# --- 5. the local model ----------------------------------------------------------------
"$VENV/bin/selfeng-tui" model pull
# one token from the model: a build that cannot run on this CPU fails here, not in the first request
"$VENV/bin/python" - <<'PY' || { say "the local model does not run on this machine (llama-cpp-python build)"; exit 1; }
from llama_cpp import Llama
from tui_agent.core.llm.model_files import shared_model_file
Llama(str(shared_model_file()), n_ctx=256, n_threads=2, verbose=False)("ok", max_tokens=1)
PY
say "the local model runs"

say "done: run '.venv/bin/selfeng-tui doctor' to see every component"
