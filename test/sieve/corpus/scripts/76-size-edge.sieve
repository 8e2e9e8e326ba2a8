require "fileinto";
if size :over 0 { fileinto "nonempty"; }
if size :under 0 { fileinto "impossible"; }
if size :over 418 { fileinto "over418"; }
if size :under 419 { fileinto "under419"; }
