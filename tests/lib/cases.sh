# cases.sh: shared by tests/run-tests and tests/bless-cases.
split_case() { # split_case FILE DIR: files into DIR, expectations into DIR/.expect/
  mkdir -p "$2/.expect"
  awk -v dir="$2" '
    function target(t) { if (out != "") close(out); out = t }
    /^%% name: / { next }
    /^%% args: / { sub(/^%% args: /, ""); print > (dir "/.expect/args"); close(dir "/.expect/args"); target(""); next }
    /^%% exit: / { sub(/^%% exit: /, ""); print > (dir "/.expect/exit"); close(dir "/.expect/exit"); target(""); next }
    /^%% file: / { sub(/^%% file: /, ""); p = dir "/" $0; n = split(p, parts, "/");
                   d = substr(p, 1, length(p) - length(parts[n]) - 1); system("mkdir -p \"" d "\"");
                   target(p); printf "" > out; next }
    /^%% stdout$/ { target(dir "/.expect/stdout"); printf "" > out; next }
    /^%% stderr$/ { target(dir "/.expect/stderr"); printf "" > out; next }
    /^%% expect-file: / { sub(/^%% expect-file: /, ""); gsub(/\//, "%", $0);
                          target(dir "/.expect/file." $0); printf "" > out; next }
    /^%%/ { print "bad case line: " $0 > "/dev/stderr"; exit 1 }
    { if (out != "") print > out }
  ' "$1"
}
