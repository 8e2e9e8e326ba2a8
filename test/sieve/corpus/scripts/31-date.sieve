require ["date", "relational", "fileinto", "variables"];
if date :is "date" "year" "2024" { fileinto "y2024"; }
if date :value "ge" "date" "month" "03" { fileinto "spring"; }
if date :matches "date" "date" "*" { fileinto "d/${1}"; }
if date :matches :originalzone "date" "time" "*" { fileinto "t/${1}"; }
if date :matches :zone "+0530" "date" "iso8601" "*" { fileinto "i/${1}"; }
if date :is "date" "weekday" "0" { fileinto "sunday"; }
