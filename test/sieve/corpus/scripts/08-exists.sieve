require "fileinto";
if exists "x-priority" { fileinto "has-priority"; }
if exists ["list-id", "precedence"] { fileinto "list"; }
if not exists "date" { fileinto "no-date"; }
if exists "x-empty" { fileinto "x-empty"; }
