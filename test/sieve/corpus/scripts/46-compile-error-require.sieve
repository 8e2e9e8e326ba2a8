require ["fileinto", "nonexistent-extension"];
fileinto "x";
