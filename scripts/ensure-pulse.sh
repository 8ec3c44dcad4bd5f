#!/usr/bin/env bash
# Starts a PulseAudio daemon with a null sink (a paced, real-time "device") unless one answers,
# and points ALSA's default device at it, so PortAudio (naudiodon) plays through
# PortAudio -> ALSA -> pulse plugin -> PulseAudio null sink. Used by .ci/run and the engine tests.
#
# Works as root: the daemon runs in user mode with an explicit runtime dir and a minimal config
# (-n: no default.pa), so neither the system-mode refusal nor a missing session bus matters.
# Idempotent; prints the server socket. Requires pulseaudio, pulseaudio-utils, libasound2-plugins.
set -euo pipefail

runtime="${PULSE_RUNTIME_PATH:-/tmp/stellatune-pulse}"

# The null sink, left to itself, runs at its maximum latency (2 s blocks) whenever no stream asks
# for less, and does not rewind for a new stream: a stream opened right after another one vanished
# (e.g. the audio process was killed) waits up to 2 s. A hardware sink does not behave like that.
# A silent low-latency stream keeps the null sink in low-latency mode, like a device.
keepalive() {
  pactl info 2>/dev/null | grep -q '^Default Sink: stellatune_null' || return 0
  local pidfile="$runtime/keepalive.pid"
  # (a zombie passes kill -0; its cmdline is empty)
  if [ -s "$pidfile" ] && grep -qs pacat "/proc/$(cat "$pidfile")/cmdline"; then return 0; fi
  mkdir -p "$runtime"
  setsid pacat --playback --latency-msec=30 --raw --client-name=stellatune-keepalive /dev/zero \
    >/dev/null 2>&1 < /dev/null &
  echo $! > "$pidfile"
}

# A server that already answers (a desktop session, or an earlier run) is used as is.
if command -v pactl >/dev/null && pactl info >/dev/null 2>&1; then
  keepalive
  echo "pulseaudio: running ($(pactl info | sed -n 's/^Server String: //p'))"
  exit 0
fi
mkdir -p "$runtime"
chmod 700 "$runtime"
export PULSE_RUNTIME_PATH="$runtime"
socket="$runtime/native"
export PULSE_SERVER="unix:$socket"

# ALSA's default device -> pulse (only if the user has no ALSA config of their own).
if [ ! -e "$HOME/.asoundrc" ]; then
  cat > "$HOME/.asoundrc" <<'ASOUND'
# Written by StellaTune scripts/ensure-pulse.sh: ALSA default -> PulseAudio.
pcm.!default { type pulse }
ctl.!default { type pulse }
ASOUND
fi

# PulseAudio's client library reads this to find the server when PULSE_SERVER is not exported.
mkdir -p "$HOME/.config/pulse"
if ! grep -qs "default-server = unix:$socket" "$HOME/.config/pulse/client.conf"; then
  sed -i '/^default-server/d;/^autospawn/d' "$HOME/.config/pulse/client.conf" 2>/dev/null || true
  echo "default-server = unix:$socket" >> "$HOME/.config/pulse/client.conf"
  echo "autospawn = no" >> "$HOME/.config/pulse/client.conf"
fi

config="$runtime/stellatune.pa"
cat > "$config" <<PA
load-module module-null-sink sink_name=stellatune_null sink_properties=device.description=StellaTuneNull
load-module module-native-protocol-unix auth-anonymous=1 socket=$socket
set-default-sink stellatune_null
PA

pulseaudio --daemonize=yes -n -F "$config" --exit-idle-time=-1 --disallow-exit \
  --use-pid-file=yes --log-target=file:"$runtime/pulse.log" --system=false 2>/dev/null ||
  pulseaudio --daemonize=yes -n -F "$config" --exit-idle-time=-1 --disallow-exit \
    --log-target=file:"$runtime/pulse.log"

for _ in $(seq 1 50); do
  if pactl info >/dev/null 2>&1; then
    keepalive
    echo "pulseaudio: started at unix:$socket"
    exit 0
  fi
  sleep 0.1
done
echo "pulseaudio: failed to start; log: $runtime/pulse.log" >&2
tail -20 "$runtime/pulse.log" >&2 || true
exit 1
