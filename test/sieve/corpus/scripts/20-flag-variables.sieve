require ["imap4flags", "variables", "fileinto"];
set "myflags" "";
addflag "myflags" "one";
addflag "myflags" ["two", "three"];
removeflag "myflags" "two";
if hasflag "myflags" "three" { fileinto "three"; }
if hasflag :count "eq" :comparator "i;ascii-numeric" "myflags" "2" { fileinto "count2"; }
fileinto :flags "${myflags}" "Named";
