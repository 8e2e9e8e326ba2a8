#!/bin/sh
# Postfix SMTP AUTH through maildir-imapd (instead of Dovecot's auth socket):
# a directory for the socket inside Postfix's queue directory, owned by the
# service user (it creates and removes the socket) and open to group postfix
# only, and the postconf lines. Run as root, then add to config.toml:
#   [sasl]
#   listen = ["unix:/var/spool/postfix/maildir-imapd/auth"]
#   socket_mode = "0666"      # the 0750 directory keeps everyone but vmail and postfix out
# and restart maildir-imapd, then: postfix reload
set -eu
SERVICE_USER=vmail
QUEUE=$(postconf -h queue_directory)

install -d -o "$SERVICE_USER" -g postfix -m 0750 "$QUEUE/maildir-imapd"

postconf -e 'smtpd_sasl_auth_enable = yes'
postconf -e 'smtpd_sasl_type = dovecot'
postconf -e 'smtpd_sasl_path = maildir-imapd/auth'
postconf -e 'smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated reject_unauth_destination'
echo "Now set [sasl] in /etc/maildir-imapd/config.toml, restart maildir-imapd, and run: postfix reload"
