#!/usr/bin/env bash
# Applies Vault's configuration as code (docs/vault.md "Bootstrap"): audit device, secret
# engines, Kubernetes auth, one policy and one role per service. Idempotent: run after
# `vault operator init` and again after every change to vault/ (and after a failover if the
# standby runs with its own storage, Enterprise mode: replication carries it otherwise).
#
# Needs: VAULT_ADDR, VAULT_CACERT, VAULT_TOKEN (a root/admin token), jq, and for the Kubernetes
# auth method K8S_HOST (the EKS API endpoint) and K8S_CA_FILE (its CA bundle).
set -euo pipefail
cd "$(dirname "$0")"

# File audit device: the CloudWatch agent on each node ships this file (user data).
vault audit list -format=json | jq -e 'has("file/")' >/dev/null \
  || vault audit enable file file_path=/var/log/vault/audit.log

# Engines the service policies read from.
vault secrets list -format=json | jq -e 'has("kv/")' >/dev/null || vault secrets enable -path=kv kv-v2
vault secrets list -format=json | jq -e 'has("database/")' >/dev/null || vault secrets enable database

# Kubernetes auth: pods present projected service-account tokens with audience "vault".
vault auth list -format=json | jq -e 'has("kubernetes/")' >/dev/null || vault auth enable kubernetes
vault write auth/kubernetes/config kubernetes_host="${K8S_HOST}" kubernetes_ca_cert=@"${K8S_CA_FILE}"

for policy in policies/*.hcl; do
  vault policy write "$(basename "${policy}" .hcl)" "${policy}"
done
jq -r 'keys[]' auth/kubernetes-roles.json | while read -r path; do
  jq -c --arg p "${path}" '.[$p]' auth/kubernetes-roles.json | vault write "${path}" -
done
