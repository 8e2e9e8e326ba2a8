require ["reject"];
redirect "a@example.org";
reject "no";
