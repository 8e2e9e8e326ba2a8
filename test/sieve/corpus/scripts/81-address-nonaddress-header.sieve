require "fileinto";
if address :all :contains "subject" "meet" { fileinto "addr-subject"; }
