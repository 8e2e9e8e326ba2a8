require ["date", "fileinto", "variables"];
if date :matches "x-none" "year" "*" { fileinto "none"; }
if not date :is "date" "year" "1999" { fileinto "not-1999"; }
if date :matches "received" "date" "*" { fileinto "rcvd-${1}"; }
if date :matches :originalzone "date" "zone" "*" { fileinto "zone-${1}"; }
