require "fileinto";
if size :over 500 { fileinto "over500"; }
if size :under 100 { fileinto "under100"; }
if size :over 1K { fileinto "over1k"; }
if size :under 1M { fileinto "under1m"; }
