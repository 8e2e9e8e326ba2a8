require ["fileinto", "imap4flags", "relational", "comparator-i;ascii-numeric"];
if anyof (header :is "x-spam-flag" "yes", header :value "ge" :comparator "i;ascii-numeric" "x-spam-score" "6") {
  addflag "$Junk";
  fileinto "Junk";
  stop;
}
