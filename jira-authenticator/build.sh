#!/usr/bin/env bash
# Builds the Seraph authenticator jars.
#
#   ./build.sh                      against the stubs and Debian's servlet API jars:
#                                   build/jiraguard-seraph-javax.jar   (Jira 8 to 10)
#                                   build/jiraguard-seraph-jakarta.jar (Jira 11)
#   ./build.sh /opt/atlassian/jira  against that Jira's own classes; the flavour follows
#                                   its servlet API: build/jiraguard-seraph-<flavour>.jar
#
# One source tree (javax.servlet); the jakarta flavour is the same source with
# javax.servlet rewritten to jakarta.servlet, so the two cannot drift apart.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/build"

missing() { # command-or-file, Debian package
    echo "build.sh: $1 not found; install the Debian package $2 (apt-get install $2)" >&2
    exit 2
}
for tool in javac jar; do
    command -v "$tool" >/dev/null || missing "$tool" openjdk-17-jdk-headless
done

# sources <flavour> <from-dir> <to-dir>: copy, rewriting the servlet package for jakarta
sources() {
    rm -rf "$3"
    mkdir -p "$3"
    (cd "$2" && find . -name '*.java') | while read -r f; do
        mkdir -p "$3/$(dirname "$f")"
        if [ "$1" = jakarta ]; then
            sed 's/\bjavax\.servlet\b/jakarta.servlet/g' "$2/$f" >"$3/$f"
        else
            cp "$2/$f" "$3/$f"
        fi
    done
}

# compile <release> <classpath> <out-dir> <src-dir>
compile() {
    rm -rf "$3"
    mkdir -p "$3"
    find "$4" -name '*.java' >"$3.files"
    javac -nowarn -Xlint:-options --release "$1" -encoding UTF-8 -cp "$2" -d "$3" "@$3.files"
    rm -f "$3.files"
}

# release <flavour>: the oldest Java the flavour's Jira versions run on
release() { if [ "$1" = jakarta ]; then echo 17; else echo 8; fi; }

package() { # <flavour> <classes-dir>
    local jarfile="$out/jiraguard-seraph-$1.jar"
    rm -f "$jarfile"
    jar --create --file "$jarfile" -C "$2" com/jiraguard
    echo "built $jarfile"
}

mkdir -p "$out"

if [ $# -eq 0 ]; then
    for flavour in javax jakarta; do
        if [ "$flavour" = jakarta ]; then
            api=/usr/share/java/jakarta-servlet-api.jar
            [ -f "$api" ] || missing "$api" libjakarta-servlet-api-java
        else
            api=/usr/share/java/servlet-api.jar
            [ -f "$api" ] || missing "$api" libservlet-api-java
        fi
        dir="$out/$flavour"
        sources "$flavour" "$here/stubs" "$dir/stubs-src"
        sources "$flavour" "$here/src/main/java" "$dir/main-src"
        compile "$(release "$flavour")" "$api" "$dir/stubs" "$dir/stubs-src"
        compile "$(release "$flavour")" "$api:$dir/stubs" "$dir/classes" "$dir/main-src"
        package "$flavour" "$dir/classes"
    done
    exit 0
fi

if [ $# -ne 1 ]; then
    echo "usage: $0 [jira-installation-directory]" >&2
    exit 2
fi

jira="$(cd "$1" && pwd)"
webinf="$jira/atlassian-jira/WEB-INF"
tomcat_api="$jira/lib/servlet-api.jar"
if [ ! -d "$webinf/lib" ] || [ ! -d "$webinf/classes" ]; then
    echo "build.sh: $jira does not look like a Jira installation (no atlassian-jira/WEB-INF/lib and classes)" >&2
    exit 2
fi
[ -f "$tomcat_api" ] || { echo "build.sh: $tomcat_api not found (Jira's bundled Tomcat)" >&2; exit 2; }
if jar --list --file "$tomcat_api" | grep -q '^jakarta/servlet/http/HttpServletRequest\.class$'; then
    flavour=jakarta
elif jar --list --file "$tomcat_api" | grep -q '^javax/servlet/http/HttpServletRequest\.class$'; then
    flavour=javax
else
    echo "build.sh: $tomcat_api has neither javax.servlet nor jakarta.servlet" >&2
    exit 2
fi
echo "Jira at $jira uses $flavour.servlet"
dir="$out/$flavour-jira"
sources "$flavour" "$here/src/main/java" "$dir/main-src"
compile "$(release "$flavour")" "$webinf/classes:$webinf/lib/*:$tomcat_api" "$dir/classes" "$dir/main-src"
package "$flavour" "$dir/classes"
