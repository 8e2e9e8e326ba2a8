require "fileinto";
fileinto "Work";
fileinto "Work";
fileinto "INBOX";
keep;
fileinto "inbox";
