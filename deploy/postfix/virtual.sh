#!/bin/sh
# Postfix virtual mailboxes for maildir-imapd: one mail owner (vmail), Maildirs
# under /var/mail/vhosts/<domain>/<user>/Maildir/ — what config.toml's
#   maildir = "/var/mail/vhosts/%d/%n/Maildir"
# serves. Run as root with your mail domains:
#   sh deploy/postfix/virtual.sh example.org [example.net …]
# then list the addresses in /etc/postfix/vmailbox, postmap it, and run
# maildir-imapd check.
set -eu
if [ $# -eq 0 ]; then
  echo "usage: sh $0 DOMAIN [DOMAIN …]   (the mail domains Postfix delivers into Maildirs, e.g. example.org)" >&2
  exit 2
fi
DOMAINS="$*"
BASE=/var/mail/vhosts

id vmail >/dev/null 2>&1 || useradd --system --user-group --no-create-home --home-dir "$BASE" --shell /usr/sbin/nologin vmail
install -d -o vmail -g vmail -m 0750 "$BASE"
VUID=$(id -u vmail); VGID=$(id -g vmail)

postconf -e "virtual_mailbox_domains = $DOMAINS"
postconf -e "virtual_mailbox_base = $BASE"
postconf -e "virtual_mailbox_maps = hash:/etc/postfix/vmailbox"
postconf -e "virtual_uid_maps = static:$VUID"
postconf -e "virtual_gid_maps = static:$VGID"
postconf -e "virtual_minimum_uid = $VUID"
# A virtual domain must not also be in mydestination.

# One line per address: the path relative to virtual_mailbox_base; the
# trailing slash makes virtual(8) deliver Maildir (tmp/ then new/).
if [ ! -e /etc/postfix/vmailbox ]; then
  cp "$(dirname "$0")/vmailbox.example" /etc/postfix/vmailbox
  echo "wrote /etc/postfix/vmailbox from vmailbox.example: list your addresses in it, then postmap /etc/postfix/vmailbox" >&2
fi
postmap /etc/postfix/vmailbox
postfix check
postfix reload 2>/dev/null || true
