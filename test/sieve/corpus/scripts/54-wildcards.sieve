require ["fileinto", "variables"];
if header :matches "subject" "?eeting*" { fileinto "q1-${1}-${2}"; }
if header :matches "subject" "*" { fileinto "all-${1}"; }
if header :matches "subject" "**w" { fileinto "double-${1}-${2}"; }
if header :matches "subject" "*\\?*" { fileinto "escaped-q"; }
if header :contains "subject" "" { fileinto "empty-key"; }
if header :matches "x-nothing" "*" { fileinto "absent"; }
