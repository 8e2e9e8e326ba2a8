require "fileinto";
fileinto "x" :copy;
