require ["imap4flags", "fileinto"];
addflag "internal";
fileinto :flags ["\\Seen", "\\Answered"] "Done";
keep :flags "KeepFlag";
fileinto "Plain";
