#!/bin/sh
# to-troff.sh ADOC_DIR MAN_DIR: turns the AsciiDoc pages that picocli's man page generator wrote from the command
# model (ManPageWriter, run by Maven with the jar) into man pages, MAN_DIR/qedfs.1, qedfs-mount.1, ... Without
# asciidoctor (make deps installs it) it says so and makes none: the build does not need them.
set -eu
adoc=$1
man=$2
rm -rf "$man"
if ! command -v asciidoctor > /dev/null; then
  echo "warning: asciidoctor is not installed: no man pages (make deps installs it)" >&2
  exit 0
fi
mkdir -p "$man"
asciidoctor -b manpage -a manmanual='qedfs manual' -D "$man" "$adoc"/*.adoc
