require ["body", "fileinto"];
if body :content "text/html" :contains "notes" { fileinto "html"; }
if body :content "application" :contains "secret pdf" { fileinto "app"; }
if body :content "text/plain" :contains "Grüße" { fileinto "latin1"; }
if body :content "message/rfc822" :contains "Invoice 2024-117" { fileinto "rfc822"; }
