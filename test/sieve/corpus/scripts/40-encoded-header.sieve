require "fileinto";
if header :contains "subject" "Grüße" { fileinto "decoded-subject"; }
if header :contains "from" "Jürgen" { fileinto "decoded-from"; }
if header :is "subject" "Grüße aus Berlin — Urlaub" { fileinto "exact"; }
if address :is "from" "juergen@example.de" { fileinto "addr"; }
