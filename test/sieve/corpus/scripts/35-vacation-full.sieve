require ["vacation", "variables"];
if header :matches "subject" "*" { set "s" "${1}"; }
vacation :days 10 :subject "Re: ${s}" :from "bob@example.org" :addresses ["bob@example.org", "robert@example.org"] :handle "ooo-2024" "Away.";
keep;
