require "reject";
discard;
reject "bye";
