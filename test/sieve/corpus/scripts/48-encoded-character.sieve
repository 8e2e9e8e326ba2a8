require ["encoded-character", "fileinto"];
if header :contains "subject" "${hex: 4d 65 65 74}" { fileinto "${unicode:263A}"; }
