require ["imap4flags", "fileinto"];
addflag ["\\Recent", "\\Bogus", "good", "bad(kw", "\\Deleted"];
fileinto :flags ["\\draft", "x y  z"] "F";
