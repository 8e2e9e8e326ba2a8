require ["body", "fileinto"];
if body :text :contains "quarterly report" { fileinto "report"; }
if body :text :contains "grün" { fileinto "gruen"; }
if body :text :contains "secret pdf" { fileinto "pdf-leak"; }
if body :contains "Buy now" { fileinto "buy"; }
