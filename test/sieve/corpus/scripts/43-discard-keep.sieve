require "fileinto";
discard;
fileinto "Saved";
