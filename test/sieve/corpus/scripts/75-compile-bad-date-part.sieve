require "date";
if date :is "date" "century" "21" { keep; }
