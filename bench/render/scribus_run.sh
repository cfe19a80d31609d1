#!/usr/bin/env bash
# scribus_run.sh pdf|png DIR: Scribus (headless, its own HOME in DIR) opens
# DIR/document.sla and exports it (PDF, or PNG pages at 150 dpi) into DIR/s-MODE.
# Scribus exits 0 even when its script fails, so the output is checked here.
set -euo pipefail
mode=$1 dir=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir/s-$mode" "$dir/home"
env HOME="$dir/home" XDG_CONFIG_HOME="$dir/home/.config" XDG_CACHE_HOME="$dir/home/.cache" \
  XDG_RUNTIME_DIR="$dir/home" TMPDIR="$dir/home" QT_QPA_PLATFORM=offscreen \
  timeout -k 10 300 scribus -g -ns -py "$here/scribus_export.py" "$mode" "$dir/document.sla" "$dir/s-$mode" 150
if [ "$mode" = pdf ]; then [ -s "$dir/s-pdf/scribus.pdf" ]; else [ -s "$dir/s-png/scribus-0001.png" ]; fi
