require "fileinto";
if header :contains "from" "example" { fileinto "Example"; stop; }
fileinto "After";
