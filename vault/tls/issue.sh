#!/usr/bin/env bash
# Issues Vault's server certificate (docs/vault.md "TLS secret setup") with the names of
# vault/tls/vault-server.ext (rendered from lib/spec): both regions' NLBs, the in-cluster
# `vault.vault.svc.cluster.local`, 127.0.0.1. ECDSA P-256, 397 days (browsers' and PCI's limit).
#   vault/tls/issue.sh CA_CERT CA_KEY OUT_DIR   ->  OUT_DIR/vault.pem, OUT_DIR/vault.key (0600)
set -euo pipefail
[[ $# -eq 3 ]] || { echo "usage: $0 CA_CERT CA_KEY OUT_DIR" >&2; exit 2; }
ca_cert=$1 ca_key=$2 out=$3
for f in "${ca_cert}" "${ca_key}"; do [[ -r "${f}" ]] || { echo "issue.sh: cannot read ${f}" >&2; exit 2; }; done
ext="$(dirname "$0")/vault-server.ext"
mkdir -p "${out}"
(umask 077; openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "${out}/vault.key")
openssl req -new -key "${out}/vault.key" -subj "/CN=vault" -out "${out}/vault.csr"
openssl x509 -req -in "${out}/vault.csr" -CA "${ca_cert}" -CAkey "${ca_key}" -set_serial "0x$(openssl rand -hex 16)" -days 397 -sha256 \
  -extfile "${ext}" -out "${out}/vault.pem"
rm -f "${out}/vault.csr"
openssl x509 -in "${out}/vault.pem" -noout -ext subjectAltName
