require ["variables", "fileinto"];
set "a" "A";
fileinto "${a}${b}${env.x}${A}";
