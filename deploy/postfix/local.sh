#!/bin/sh
# Postfix local(8) delivery to system users, into ~/Maildir/ — what config.toml's
#   maildir = "~/Maildir"
# serves (each users-file line carries the user's home as its 6th field).
# Run as root. Then: maildir-imapd check
# maildir-imapd must then run as each user's owner: with one process for many
# system users this means starting as root with service.user… which cannot own
# every home. Prefer virtual mailboxes (virtual.sh) for more than one user.
set -eu
postconf -e "home_mailbox = Maildir/"
postconf -e "mailbox_command ="
postfix check
postfix reload 2>/dev/null || true
