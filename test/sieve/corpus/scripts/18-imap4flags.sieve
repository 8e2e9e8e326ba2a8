require ["imap4flags", "fileinto"];
setflag "\\Seen";
addflag ["$Label1", "Junk \\Flagged"];
removeflag "junk";
if hasflag :contains "label" { fileinto "has-label"; }
if hasflag "\\flagged" { addflag "Important"; }
