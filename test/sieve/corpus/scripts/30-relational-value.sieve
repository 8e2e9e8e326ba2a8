require ["relational", "comparator-i;ascii-numeric", "fileinto"];
if header :value "ge" :comparator "i;ascii-numeric" "x-spam-score" "5" { fileinto "Junk"; }
if header :value "lt" "subject" "N" { fileinto "before-n"; }
if header :value "gt" :comparator "i;octet" "subject" "a" { fileinto "after-a-octet"; }
if header :value "ne" :comparator "i;ascii-numeric" "x-priority" "1" { fileinto "prio-not-1"; }
