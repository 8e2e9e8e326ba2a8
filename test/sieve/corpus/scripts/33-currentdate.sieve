require ["date", "relational", "fileinto"];
if currentdate :value "ge" "year" "2024" { fileinto "modern"; }
if currentdate :value "lt" "year" "2000" { fileinto "ancient"; }
