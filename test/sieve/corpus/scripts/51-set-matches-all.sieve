require ["variables", "fileinto"];
if header :matches "from" "*" { set :lower "f" "${0}"; }
if header :matches "to" "*" { set :length "n" "${1}"; }
fileinto "F ${f} ${n}";
