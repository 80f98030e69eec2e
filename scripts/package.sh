#!/usr/bin/env bash
# package.sh: build .deb and .rpm into dist/ with nfpm (given as $NFPM, a command), from the binaries
# in bin/. Man pages come from the binaries' own flag definitions (--man-page); the version from git
# tags: PKG_VERSION is the last tag vX.Y.Z (0.0.0 without one), PKG_RELEASE the commits since + 1.
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

rm -rf dist/man dist/rpm dist/*.deb dist/*.rpm
mkdir -p dist/man dist/rpm
for b in "${binaries[@]}"; do
  bin/$b --man-page > dist/man/$b.1 || [[ $? -eq 3 ]]
  gzip -9nf dist/man/$b.1
done
sed 's#/usr/lib/nagios/plugins#/usr/lib64/nagios/plugins#g; s#/etc/nagios/nrpe.d#/etc/nrpe.d#g' packaging/nrpe/check_socat.cfg > dist/rpm/nrpe-check_socat.cfg
sed 's#/usr/lib/nagios/plugins#/usr/lib64/nagios/plugins#g' packaging/nrpe/check_socat_args.cfg > dist/rpm/nrpe-args.cfg

tag=$(git describe --tags --abbrev=0 --match 'v[0-9]*' 2>/dev/null || true)
if [[ -n $tag ]]; then
  PKG_VERSION=${tag#v}
  PKG_RELEASE=$(( $(git rev-list --count "$tag"..HEAD) + 1 ))
else
  PKG_VERSION=0.0.0
  PKG_RELEASE=$(git rev-list --count HEAD 2>/dev/null || echo 1)
fi
PKG_ARCH=$(go env GOARCH)
export PKG_VERSION PKG_RELEASE PKG_ARCH
for p in deb rpm; do
  $NFPM package --config packaging/nfpm.yaml --packager "$p" --target dist/ >&2
done
ls dist/*.deb dist/*.rpm
