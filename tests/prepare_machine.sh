#!/usr/bin/env bash
# What `make test` runs before the tests: the Debian programs the tests drive must be on this machine.
# Chromium and its driver (the unsubscribe page and the console, in a real browser), SpamAssassin
# (message quality) and Dovecot (the mailboxes' IMAP side; the tests start their own instance).
# As root, the missing ones are installed with apt-get; otherwise it stops with the command to run,
# so the suite never half-runs.
set -euo pipefail

# command it needs -> the Debian package that brings it
declare -A needs=(
  [chromium]=chromium
  [chromedriver]=chromium-driver
  [spamassassin]=spamassassin
  [dovecot]=dovecot-imapd
  [doveadm]=dovecot-imapd
)

missing=()
for command in "${!needs[@]}"; do
  # dovecot lives in /usr/sbin, which a user's PATH may lack
  PATH="$PATH:/usr/sbin:/sbin" command -v "$command" >/dev/null || missing+=("${needs[$command]}")
done
# dovecot and doveadm come with dovecot-core; the IMAP server itself is dovecot-imapd's.
[[ -x /usr/lib/dovecot/imap ]] || missing+=(dovecot-imapd)
if (( ${#missing[@]} == 0 )); then
  exit 0
fi
packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
packages=${packages% }

if [[ $(id -u) -ne 0 ]]; then
  echo "The tests need Debian packages this machine lacks. Install them, then run make test again:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y $packages" >&2
  exit 1
fi
echo "installing the Debian packages the tests drive: $packages"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq $packages >/dev/null; }; then
  echo "apt-get could not install: $packages; the tests were not run" >&2
  exit 1
fi
