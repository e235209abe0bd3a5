#!/usr/bin/env bash
# Fetches the published XML schema the static export's sitemap is checked
# against (for `.ci/run`): sitemaps.org's sitemap.xsd (0.9, CC BY-SA 2.5),
# as the npm package `sitemap` 9.0.1 ships it, checked by SHA-256. The XHTML
# schema its hreflang links need comes with Debian's python3-xmlschema.
# Prints the path as a shell assignment.
#
#   eval "$(tools/fetch_schemas.sh DIR)"   # sets SITEMAP_XSD
set -euo pipefail
dir="$1"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

check() { echo "$2  $1" | sha256sum --check --quiet -; }

xsd="$dir/sitemap.xsd"
if [ ! -f "$xsd" ]; then
  work="$(mktemp -d)"
  (cd "$work" && npm pack --silent sitemap@9.0.1 >/dev/null)
  check "$work/sitemap-9.0.1.tgz" 413c182add50ef752a3a700a406eb3d8f0ef06bb4b80868563cea7d3ea620575
  tar -xzf "$work/sitemap-9.0.1.tgz" -C "$work" package/schema/sitemap.xsd
  check "$work/package/schema/sitemap.xsd" fbec77e84467050d5667394a57cc5cdfe1239d80aca1d61e9e0827173c3d9df9
  install -m 0644 "$work/package/schema/sitemap.xsd" "$xsd"
  rm -rf "$work"
fi

echo "SITEMAP_XSD=$xsd"
