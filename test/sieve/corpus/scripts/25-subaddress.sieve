require ["subaddress", "envelope", "fileinto", "variables"];
if envelope :detail :matches "to" "*" { fileinto "detail/${1}"; }
if envelope :user :is "to" "bob" { fileinto "user-bob"; }
if address :detail :is "to" "lists" { fileinto "to-lists"; }
if address :user :is "reply-to" "juergen" { fileinto "reply-user"; }
if address :detail :is "reply-to" "reply" { fileinto "reply-detail"; }
