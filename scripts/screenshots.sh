#!/bin/bash
# Screenshots of every page of the desktop app, taken under a virtual X server (Xvfb + ImageMagick's
# `import -window root`), for the docs and for reviewing the UI without a desktop.
#
#   scripts/screenshots.sh OUTPUT_DIR [BUILD_DIR]
#
# BUILD_DIR defaults to build/ (it must hold app/desktop/bonsai). The app runs on a throw-away profile
# (BONSAI_DATA_DIR / BONSAI_CONFIG_DIR / HOME in a temporary folder) so your own conversations are
# neither shown nor touched. The chat page is taken after a first message ("--send") has been answered
# by the default model (chat-live.png); chat.png and chat-dark.png show a demo conversation with code
# blocks (scripts/screenshots-demo.json, imported with `bonsai-cli history import` when bonsai-cli is built).
# Set BONSAI_DEFAULT_MODEL to use another model file.
# Output: chat.png, chat-dark.png, chat-cloud.png (the cloud notice), chat-live.png, models.png, context.png, plugins.png, settings.png.
set -euo pipefail

out=${1:?usage: scripts/screenshots.sh OUTPUT_DIR [BUILD_DIR]}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${2:-$root/build}
app="$build/app/desktop/bonsai"
[ -x "$app" ] || { echo "screenshots: $app not found; build the 'bonsai' target first" >&2; exit 1; }
command -v Xvfb >/dev/null || { echo "screenshots: Xvfb is not installed (apt install xvfb)" >&2; exit 1; }
command -v import >/dev/null || { echo "screenshots: ImageMagick's import is not installed (apt install imagemagick)" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)

work=$(mktemp -d)
display=:$((90 + RANDOM % 400))
Xvfb "$display" -screen 0 1180x760x24 -nolisten tcp >/dev/null 2>&1 &
xvfb_pid=$!
cleanup() {
    kill "$xvfb_pid" 2>/dev/null || true
    cp "$work"/*.log "$out"/ 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X${display#:}" ] && break; sleep 0.1; done

export DISPLAY=$display QT_QPA_PLATFORM=xcb
export HOME=$work/home BONSAI_DATA_DIR=$work/data BONSAI_CONFIG_DIR=$work/config
export XDG_CONFIG_HOME=$work/config XDG_DATA_HOME=$work/data XDG_CACHE_HOME=$work/cache
mkdir -p "$HOME"

# Some content for the pages: a note in the personal context, the user's theme setting per shot.
settings="$XDG_CONFIG_HOME/Bonsai/Bonsai.conf"
set_theme() { mkdir -p "$(dirname "$settings")"; printf '[ui]\ntheme=%s\n' "$1" > "$settings"; }

# shot NAME WAIT_SECONDS APP_ARGS...: starts the app, waits, grabs the screen, closes the app.
shot() {
    local name=$1 wait=$2
    shift 2
    "$app" "$@" >"$work/$name.log" 2>&1 &
    local pid=$!
    sleep "$wait"
    import -window root "$out/$name.png"
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    echo "screenshots: $out/$name.png"
}

cli="$build/app/cli/bonsai-cli"
mkdir -p "$BONSAI_DATA_DIR/profiles"
if [ -x "$cli" ]; then
    db="$BONSAI_DATA_DIR/profiles/default.sqlite3"
    "$cli" history import "$root/scripts/screenshots-demo.json" --db "$db" >/dev/null
    "$cli" context add --db "$db" --kind fact --title "Home city" --text "I live in Lyon and cycle to work." >/dev/null
    "$cli" context add --db "$db" --kind note --title "Project Bonsai" --text "Ship the desktop app with the 1-bit 8B model by default." >/dev/null
fi

set_theme light
shot chat 5 --page chat --open 1
shot chat-cloud 5 --page chat --open 2
shot chat-live 12 --page chat --send "Write a hello world in Python and in C, in code blocks."
shot models 4 --page models
shot context 4 --page context
shot plugins 4 --page plugins
shot settings 4 --page settings
set_theme dark
shot chat-dark 5 --page chat --open 1
