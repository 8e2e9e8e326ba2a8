require ["fileinto", "variables"];
if header :is "subject" "" { fileinto "empty-subject"; }
if header :matches "x-empty" "*" { fileinto "xe/${1}x"; }
if address :domain :is "to" "" { fileinto "no-domain"; }
if address :all :is "from" "bogus address without at" { fileinto "bogus"; }
