require ["variables", "fileinto"];
set :length "n" "Grüße ☺";
set :upper "u" "grüße";
set :upperfirst "f" "éa";
fileinto "${n}-${u}-${f}";
