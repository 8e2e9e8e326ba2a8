require "fileinto";
if address :domain :is "from" "example.com" { fileinto "dom-com"; }
if address :localpart :is "from" "alice" { fileinto "lp-alice"; }
if address :all :is ["to", "cc"] "dave@example.net" { fileinto "all-dave"; }
if address :domain :is "cc" "EXAMPLE.net" { fileinto "cc-net"; }
if address :all :contains "cc" "eve" { fileinto "cc-eve"; }
if address :is "to" "bob@example.org" { fileinto "to-bob"; }
