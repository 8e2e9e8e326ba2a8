require ["variables", "fileinto"];
set "a" "Hello";
set :lower "b" "MiXeD";
set :upper "c" "mixed";
set :upperfirst "d" "word";
set :lowerfirst :upper "e" "WORD";
set :length "f" "12345";
set :quotewildcard "g" "a*b?c";
fileinto "${a}-${b}-${c}-${d}-${e}-${f}-${g}";
