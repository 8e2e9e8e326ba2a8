keep;
require "fileinto";
