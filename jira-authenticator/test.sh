#!/usr/bin/env bash
# Builds both flavours, signs test vectors with jiraguard's Python signer, and runs the
# JUnit 4 tests against each flavour. Exits non-zero on any failure.
#
#   PYTHON=/path/to/python ./test.sh   (default: the repository's .venv, else python3 with src/)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
out="$here/build"

missing() {
    echo "test.sh: $1 not found; install the Debian package $2 (apt-get install $2)" >&2
    exit 2
}
junit=/usr/share/java/junit4.jar
hamcrest=/usr/share/java/hamcrest-core.jar
[ -f "$junit" ] || missing "$junit" junit4
[ -f "$hamcrest" ] || missing "$hamcrest" libhamcrest-java
command -v java >/dev/null || missing java openjdk-17-jdk-headless

bash "$here/build.sh"

python="${PYTHON:-$repo/.venv/bin/python}"
if [ ! -x "$python" ] && ! command -v "$python" >/dev/null 2>&1; then
    python=python3
fi
vectors="$out/vectors.properties"
if ! PYTHONPATH="$repo/src${PYTHONPATH:+:$PYTHONPATH}" "$python" "$here/vectors.py" "$vectors"; then
    echo "test.sh: could not write the vectors with $python; it needs jiraguard's dependencies" \
        "(python3 -m venv .venv && .venv/bin/pip install -e .), or set PYTHON" >&2
    exit 1
fi

tests=(
    com.jiraguard.seraph.SignedHeaderVerifierTest
    'com.jiraguard.seraph.SignedHeaderVerifierTest$Rules'
    com.jiraguard.seraph.SignedHeaderAuthenticatorTest
    'com.jiraguard.seraph.SignedHeaderAuthenticatorTest$Rules'
)

status=0
for flavour in javax jakarta; do
    if [ "$flavour" = jakarta ]; then api=/usr/share/java/jakarta-servlet-api.jar; else api=/usr/share/java/servlet-api.jar; fi
    dir="$out/$flavour"
    jarfile="$out/jiraguard-seraph-$flavour.jar"
    rm -rf "$dir/test-src" "$dir/test-classes"
    mkdir -p "$dir/test-src" "$dir/test-classes"
    (cd "$here/src/test/java" && find . -name '*.java') | while read -r f; do
        mkdir -p "$dir/test-src/$(dirname "$f")"
        if [ "$flavour" = jakarta ]; then
            sed 's/\bjavax\.servlet\b/jakarta.servlet/g' "$here/src/test/java/$f" >"$dir/test-src/$f"
        else
            cp "$here/src/test/java/$f" "$dir/test-src/$f"
        fi
    done
    # the tests run the packaged jar, with the stubs standing in for Jira
    cp="$jarfile:$dir/stubs:$api:$junit:$hamcrest"
    find "$dir/test-src" -name '*.java' >"$dir/test-files"
    javac -nowarn -encoding UTF-8 -cp "$cp" -d "$dir/test-classes" "@$dir/test-files"
    echo "== $flavour flavour"
    if java -Djiraguard.vectors="$vectors" -cp "$dir/test-classes:$cp" org.junit.runner.JUnitCore "${tests[@]}" \
        >"$dir/test-output.txt" 2>&1; then
        echo "$flavour: $(grep -E '^OK \(' "$dir/test-output.txt")"
    else
        cat "$dir/test-output.txt"
        echo "$flavour: FAILED (full output in $dir/test-output.txt)"
        status=1
    fi
done
exit $status
