require ["body", "fileinto"];
if body :content "multipart" :contains "preamble" { fileinto "preamble"; }
if body :content "text" :contains "Release" { fileinto "text-release"; }
if body :text :contains "notes: the build" { fileinto "html-text"; }
if body :content "" :contains "Amount due" { fileinto "any-amount"; }
