require ["fileinto", "imap4flags"];
if header :contains "to" "bob" {
  if header :contains "subject" "invoice" {
    addflag "\\Flagged";
    fileinto "Invoices";
  } elsif header :contains "from" "alice" {
    if not exists "x-nothing" { fileinto "Alice"; }
  }
} else {
  discard;
}
