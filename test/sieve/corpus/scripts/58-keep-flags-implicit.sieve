require ["imap4flags", "fileinto", "copy"];
addflag "one";
fileinto :copy "Copy";
addflag "two";
