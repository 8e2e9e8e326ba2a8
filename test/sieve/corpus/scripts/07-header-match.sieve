require "fileinto";
if header :matches "subject" "*tomorrow" { fileinto "m1"; }
if header :matches "subject" "Meet??g*" { fileinto "m2"; }
if header :is "subject" "meeting tomorrow" { fileinto "is-casemap"; }
if header :is :comparator "i;octet" "subject" "meeting tomorrow" { fileinto "is-octet"; }
if header :contains :comparator "i;octet" "subject" "Meet" { fileinto "contains-octet"; }
if header :matches "subject" "\\*" { fileinto "literal-star"; }
