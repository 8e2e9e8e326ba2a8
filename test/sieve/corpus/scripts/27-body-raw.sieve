require ["body", "fileinto"];
if body :raw :contains "gr=C3=BCn" { fileinto "raw-qp"; }
if body :raw :contains "preamble" { fileinto "raw-preamble"; }
if body :raw :contains "Buy now" { fileinto "raw-buy"; }
