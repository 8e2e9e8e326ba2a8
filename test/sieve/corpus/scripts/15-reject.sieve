require "reject";
if header :contains "subject" "sale" { reject "No advertising, please."; }
