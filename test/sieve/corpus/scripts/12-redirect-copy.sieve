require "copy";
redirect :copy "archive@example.org";
redirect :copy "Archive@example.org";
redirect :copy "archive@EXAMPLE.org";
