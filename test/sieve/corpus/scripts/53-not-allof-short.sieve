require "fileinto";
if not allof (exists "x-none", header :contains "subject" "a") { fileinto "not-allof"; }
if anyof (exists "x-none") { fileinto "never"; }
