require "fileinto";
if header :contains "subject" "meeting" {
  fileinto "Work";
} elsif header :contains "subject" ["sale", "offer"] {
  fileinto "Promotions";
} else {
  fileinto "Other";
}
