require "reject";
if size :over 100 {
  reject text:
Your message was not accepted.
..A line that started with a dot.
Regards
.
;
}
