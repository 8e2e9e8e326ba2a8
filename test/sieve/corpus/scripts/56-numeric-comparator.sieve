require ["fileinto", "relational", "comparator-i;ascii-numeric"];
if header :is :comparator "i;ascii-numeric" "x-spam-score" "007" { fileinto "num-eq"; }
if header :is :comparator "i;ascii-numeric" "subject" "anything" { fileinto "both-inf"; }
if header :value "gt" :comparator "i;ascii-numeric" "subject" "999999" { fileinto "inf-gt"; }
if header :count "gt" "x-tag" "10" { fileinto "casemap-count"; }
