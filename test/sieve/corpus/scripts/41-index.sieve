require ["index", "fileinto", "variables"];
if header :index 2 :matches "x-tag" "*" { fileinto "second/${1}"; }
if header :index 1 :last :matches "x-tag" "*" { fileinto "last/${1}"; }
if header :index 5 :is "x-tag" "first" { fileinto "none"; }
