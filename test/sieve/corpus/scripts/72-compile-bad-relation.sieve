require "relational";
if header :value "gte" "subject" "x" { keep; }
