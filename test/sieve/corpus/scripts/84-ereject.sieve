require "ereject";
ereject "no thanks";
