require ["fileinto", "variables"];
if header :matches "list-id" "*<*.lists.example.com>" {
  fileinto "Lists/${2}";
} elsif exists "list-unsubscribe" {
  fileinto "Lists/other";
}
