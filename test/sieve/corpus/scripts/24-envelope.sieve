require ["envelope", "fileinto"];
if envelope :is "from" "sender@example.com" { fileinto "env-from"; }
if envelope :domain :is "to" "example.org" { fileinto "env-to-dom"; }
if envelope :localpart :contains "to" "bob" { fileinto "env-to-lp"; }
