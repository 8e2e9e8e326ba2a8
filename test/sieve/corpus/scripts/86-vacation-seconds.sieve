require ["vacation-seconds"];
vacation :seconds 3600 "brb";
