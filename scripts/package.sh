#!/usr/bin/env bash
# package.sh: build .deb and .rpm into dist/ with nfpm (given as $NFPM, a command), from the binaries
# in bin/. Man pages come from the binaries' own flag definitions (--man-page); the version from the
# VERSION file (as the binaries' --version), the release from the commits since it changed.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${NFPM:?set NFPM to the nfpm command}"
# The binaries: the Makefile's list (BINARIES, one per cmd/ directory).
read -r -a binaries <<< "${BINARIES:?set BINARIES to the list of binaries (make package does)}"
for b in "${binaries[@]}"; do
  [[ -x bin/$b ]] || { echo "package: bin/$b is missing: run make build" >&2; exit 1; }
done
# nfpm takes bin/check_socat_* by glob: a stale binary (a command since
# removed or renamed) must not ship.
for f in bin/check_socat_*; do
  [[ " ${binaries[*]} " == *" $(basename "$f") "* ]] || { echo "package: $f is not one of the binaries ($BINARIES): remove it (make clean build)" >&2; exit 1; }
done

# The packaged Icinga 2 file must be what the binaries say today.
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
scripts/gen-icinga2.sh > "$tmp"
if ! cmp -s "$tmp" packaging/icinga2/check_socat.conf; then
  echo "package: packaging/icinga2/check_socat.conf is stale: run make packaging-files and commit it" >&2
  exit 1
fi

rm -rf dist/man dist/rpm dist/*.deb dist/*.rpm dist/changelog.Debian.gz dist/changelog.gz dist/lintian-overrides
mkdir -p dist/man dist/rpm
for b in "${binaries[@]}"; do
  bin/$b --man-page > dist/man/$b.1 || [[ $? -eq 3 ]]
  gzip -9nf dist/man/$b.1
done
sed 's#/usr/lib/nagios/plugins#/usr/lib64/nagios/plugins#g; s#/etc/nagios/nrpe.d#/etc/nrpe.d#g' packaging/nrpe/check_socat.cfg > dist/rpm/nrpe-check_socat.cfg
sed 's#/usr/lib/nagios/plugins#/usr/lib64/nagios/plugins#g' packaging/nrpe/check_socat_args.cfg > dist/rpm/nrpe-args.cfg
sed 's#/usr/lib/nagios/plugins#/usr/lib64/nagios/plugins#g' packaging/sudoers/check-socat > dist/rpm/sudoers

# The version is the VERSION file's (what --version prints); the release counts the commits since
# VERSION last changed, so that two builds of one version differ.
PKG_VERSION=$(cat VERSION)
[[ $PKG_VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "package: VERSION must be X.Y.Z, not '$PKG_VERSION'" >&2; exit 1; }
since=$(git log -1 --format=%H -- VERSION 2>/dev/null || true)
if [[ -n $since ]]; then
  PKG_RELEASE=$(( $(git rev-list --count "$since"..HEAD) + 1 ))
else
  PKG_RELEASE=1
fi
PKG_ARCH=$(go env GOARCH)
export PKG_VERSION PKG_RELEASE PKG_ARCH

# Debian wants its changelog as changelog.Debian.gz in its own format, and
# the upstream one compressed (lintian): one entry per build, dated by the
# commit (reproducible), pointing at CHANGELOG.md.
when=$(git log -1 --format=%cD 2>/dev/null || date -R)
printf '%s\n\n  * Release %s, build %s: see /usr/share/doc/check-socat/changelog.gz.\n\n -- %s  %s\n' \
  "check-socat ($PKG_VERSION-$PKG_RELEASE) unstable; urgency=medium" "$PKG_VERSION" "$PKG_RELEASE" \
  "check_socat developers <check-socat@users.noreply.github.com>" "$when" | gzip -9n > dist/changelog.Debian.gz
gzip -9nc CHANGELOG.md > dist/changelog.gz
# The plugins are static by design (CGO_ENABLED=0): one package for every distribution, whatever its
# libc. lintian is told so, for each binary.
{
  echo "# The plugins are static by design (CGO_ENABLED=0)."
  for b in "${binaries[@]}"; do echo "check-socat: statically-linked-binary [usr/lib/nagios/plugins/$b]"; done
} > dist/lintian-overrides
for p in deb rpm; do
  $NFPM package --config packaging/nfpm.yaml --packager "$p" --target dist/ >&2
done
ls dist/*.deb dist/*.rpm
