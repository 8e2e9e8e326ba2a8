require ["fileinto", "variables"];
if header :matches "from" "*@*" { set "a" "${2}"; }
if header :matches "subject" "no such thing*" { set "b" "x"; }
fileinto "keep-${1}-${2}-${a}";
