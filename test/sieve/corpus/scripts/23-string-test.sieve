require ["variables", "fileinto", "relational", "comparator-i;ascii-numeric"];
set "x" "abc";
set "empty" "";
if string :is "${x}" "abc" { fileinto "s1"; }
if string :matches "${x}" "a*" { fileinto "s2-${0}"; }
if string :count "eq" :comparator "i;ascii-numeric" ["${x}", "${empty}", "z"] "2" { fileinto "s3"; }
if string :is "${undefined}" "" { fileinto "s4"; }
