require ["vacation"];
vacation :mime :days 1 :from "Bob <bob@example.org>" text:
Content-Type: text/plain

Away
.
;
