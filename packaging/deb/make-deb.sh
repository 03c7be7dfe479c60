#!/bin/sh
# make-deb.sh STAGE OUT_DIR: turns a `make install DESTDIR=STAGE PREFIX=/usr` tree (launcher, jar, completion, man
# pages, and whatever else make install installs) into OUT_DIR/qedfs_VERSION_all.deb with dpkg-deb. Run by
# `make deb`. Adds what Debian asks of a package: compressed man pages, /usr/share/doc/qedfs (copyright,
# changelog), the control file and the maintainer scripts in this directory. The package is architecture-
# independent: the class-data archive and jffi's native library, which fit one JVM and one machine, are made
# by the postinst on the machine (prepare-lib.sh, shipped beside the jar) and removed by the prerm.
set -eu
stage=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
lib=$stage/usr/lib/qedfs
die() { echo "make-deb: $*" >&2; exit 1; }

# The package's Maintainer, as Debian's tools (dch, debmake) find it: DEBFULLNAME and DEBEMAIL (which may also
# hold "NAME <EMAIL>"), else git's user.name and user.email
name=${DEBFULLNAME:-}
email=${DEBEMAIL:-}
case $email in
  *'<'*'>'*) [ -n "$name" ] || name=$(echo "${email%%<*}" | sed 's/ *$//'); email=${email#*<}; email=${email%%>*} ;;
esac
[ -n "$name" ] || name=$(git -C "$root" config user.name 2> /dev/null || true)
[ -n "$email" ] || email=$(git -C "$root" config user.email 2> /dev/null || true)
[ -n "$name" ] && [ -n "$email" ] \
  || die "who maintains the package? set DEBFULLNAME and DEBEMAIL (as for dch), or git config user.name and user.email"
maintainer="$name <$email>"
# for sed's replacement text
maintainer_sed=$(printf '%s' "$maintainer" | sed 's/[\\|&]/\\&/g')

[ -f "$lib/qedfs.jar" ] && [ -x "$stage/usr/bin/qedfs" ] || die "$stage holds no make install tree (qedfs.jar, bin/qedfs)"
ls "$stage"/usr/share/man/man1/qedfs*.1 > /dev/null 2>&1 \
  || die "no man pages to package: the build makes them when asciidoctor is installed (make deps), then run make deb again"
# The mount helpers (mount.fuse.qedfs / mount.qedfs, umount.fuse.qedfs, fuse/src/main/sh) are packaged as make
# install installs them, like every other file of the tree; a helper in the sources that make install left out
# would be a package without it.
for helper in "$root"/fuse/src/main/sh/mount.* "$root"/fuse/src/main/sh/umount.*; do
  [ -e "$helper" ] || continue
  name=$(basename "$helper" | sed 's/\.in$//; s/\.sh$//')
  find "$stage" -name "$name" | grep -q . || die "$name is in the sources but make install did not install it"
done
version=$(java -jar "$lib/qedfs.jar" --version | sed -n 's/^qedfs //p')
[ -n "$version" ] || die "cannot read the version from qedfs --version"

install -m 0755 "$root/fuse/src/main/sh/prepare-lib.sh" "$lib/prepare-lib.sh"
for page in "$stage"/usr/share/man/man1/*.1; do
  gzip -9n "$page"
done
doc=$stage/usr/share/doc/qedfs
install -d "$doc"
install -m 0644 "$here/copyright" "$doc/copyright"
date=$(date -R -d "@$(git -C "$root" log -1 --format=%ct 2> /dev/null || date +%s)")
sed -e "s/@VERSION@/$version/" -e "s/@DATE@/$date/" -e "s|@MAINTAINER@|$maintainer_sed|" "$here/changelog.in" | gzip -9n > "$doc/changelog.gz"

install -d "$stage/usr/share/lintian/overrides"
install -m 0644 "$here/lintian-overrides" "$stage/usr/share/lintian/overrides/qedfs"

install -d "$stage/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size/" -e "s|@MAINTAINER@|$maintainer_sed|" "$here/control.in" > "$stage/DEBIAN/control"
for script in postinst prerm; do
  install -m 0755 "$here/$script" "$stage/DEBIAN/$script"
done
install -m 0644 "$here/triggers" "$stage/DEBIAN/triggers"
(cd "$stage" && find usr -type f -exec md5sum {} +) > "$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/md5sums"
find "$stage" -type d -exec chmod 0755 {} +

mkdir -p "$out"
deb=$out/qedfs_${version}_all.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" > /dev/null
echo "built $deb"
