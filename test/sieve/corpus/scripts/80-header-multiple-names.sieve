require ["fileinto", "variables"];
if header :matches ["x-none", "subject", "from"] "*e*" { fileinto "first-${1}"; }
if header :is ["To", "CC"] "bob <bob@example.org>" { fileinto "to-is"; }
