require ["imap4flags", "relational", "comparator-i;ascii-numeric", "fileinto"];
addflag ["a", "b", "c"];
addflag "b";
if hasflag :count "eq" :comparator "i;ascii-numeric" "3" { fileinto "three"; }
setflag "";
keep;
