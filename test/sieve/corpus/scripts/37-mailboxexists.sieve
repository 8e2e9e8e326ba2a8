require ["mailbox", "fileinto"];
if mailboxexists "Work" { fileinto "Work"; }
if mailboxexists ["INBOX", "Nonexistent"] { fileinto "both"; }
if not mailboxexists "Nonexistent" { fileinto :create "Created"; }
