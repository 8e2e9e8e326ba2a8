require "fileinto";
# comment
/* bracket
   comment */ fileinto text: # trailing comment
Multi
.
;
