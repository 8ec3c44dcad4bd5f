#!/bin/sh
# Chromium for the QA scenarios, without CAP_SYS_NICE. Run as root (CI is), Chromium raises its
# browser, GPU and compositor threads to nice -8, which a listener's Chromium (or Electron) cannot:
# on 2 cores those threads then outweigh the core's main thread 5.5 to 1 and the scenarios measure
# the test browser's scheduling rather than the core. Dropping the capability leaves Chromium as
# it runs for a normal user (nice 0, like the core).
chromium="${STELLATUNE_QA_CHROMIUM:-/usr/bin/chromium}"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
  exec setpriv --bounding-set=-sys_nice --inh-caps=-sys_nice -- "$chromium" "$@"
fi
exec "$chromium" "$@"
