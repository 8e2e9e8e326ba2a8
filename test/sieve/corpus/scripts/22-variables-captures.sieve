require ["variables", "fileinto"];
if header :matches "subject" "*: *" { fileinto "prefix/${1}"; }
if address :matches :all "from" "*@*" { set "user" "${1}"; set "dom" "${2}"; }
if header :matches "date" "*, * *" { set "when" "${2}"; }
fileinto "from/${dom}/${user}";
fileinto "when/${when}";
