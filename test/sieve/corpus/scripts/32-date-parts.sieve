require ["date", "fileinto", "variables"];
if date :matches :originalzone "date" "zone" "*" { set "z" "${1}"; }
if date :matches "date" "julian" "*" { set "j" "${1}"; }
if date :matches "date" "hour" "*" { set "h" "${1}"; }
if date :matches :originalzone "date" "std11" "*" { set "s" "${1}"; }
fileinto "z${z}-j${j}-h${h}";
fileinto "std ${s}";
