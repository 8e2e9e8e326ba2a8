redirect "archive@example.org";
