require ["relational", "comparator-i;ascii-numeric", "fileinto"];
if header :count "ge" :comparator "i;ascii-numeric" "x-tag" "3" { fileinto "three-tags"; }
if address :count "gt" :comparator "i;ascii-numeric" ["to", "cc"] "2" { fileinto "many-rcpts"; }
if header :count "eq" :comparator "i;ascii-numeric" "received" "0" { fileinto "no-received"; }
