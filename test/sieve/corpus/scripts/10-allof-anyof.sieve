require "fileinto";
if allof (header :contains "to" "bob", not header :contains "subject" "sale") { fileinto "a"; }
if anyof (false, header :contains "subject" "digest", exists "x-spam-flag") { fileinto "b"; }
if allof (true, anyof (false, not false)) { fileinto "c"; }
