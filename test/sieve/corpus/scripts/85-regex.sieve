require ["regex", "fileinto"];
if header :regex "subject" "^Meet" { fileinto "re"; }
