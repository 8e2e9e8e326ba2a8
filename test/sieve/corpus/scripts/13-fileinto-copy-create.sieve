require ["fileinto", "copy", "mailbox"];
fileinto :copy "Copies";
fileinto :create "New/Sub";
