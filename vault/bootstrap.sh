#!/usr/bin/env bash
# Applies Vault's configuration as code (docs/vault.md "Bootstrap"): audit device, secret
# engines, Kubernetes auth, one policy and one role per Vault client, the generated keys, the
# database (service roles and databases, Vault's connection and static
# roles), the PKI mount and role, and the `vault-ca` Secret in the namespaces that talk to Vault.
# Idempotent: run after `vault operator init` and again after every change to vault/ (and after a
# failover if the standby runs with its own storage, Enterprise mode: replication carries it
# otherwise). Every name and number comes from the files beside it, rendered from lib/spec.
#
# Needs: vault, jq, openssl, psql, kubectl (context: the environment's EKS cluster), and
#   VAULT_ADDR, VAULT_CACERT (the Vault CA, ca.pem), VAULT_TOKEN (a root/admin token)
#   K8S_HOST (the EKS API endpoint), K8S_CA_FILE (its CA bundle)
#   DATABASE_HOST (RDS writer endpoint), PGUSER and PGPASSWORD (the RDS master user, from its
#   RDS-managed secret), RDS_CA_FILE (the region's RDS CA bundle)
# Optional: DATABASE_PORT (default `database.port` in bootstrap.json, the spec's RDS port).
#   VAULT_AUDIT_FILE: where the file audit device writes (default `audit.file` in
#   bootstrap.json, the path the nodes' CloudWatch agent ships; the tests point it elsewhere).
#   <SERVICE>_STRIPE_SECRET_KEY_FILE (`operatorSecrets[].fileVariable` in bootstrap.json,
#   e.g. PAYMENT_SERVICE_STRIPE_SECRET_KEY_FILE): a file holding that operator secret, written to
#   Vault only if the entry is absent. Without it an absent entry makes bootstrap fail at the end,
#   after applying everything else, printing the command that puts the key.
#   REDIS_AUTH_TOKEN_FILE, KAFKA_SCRAM_SECRET_FILE (`platformCredentials[].fileVariable`): files
#   holding the SecretString of the ElastiCache AUTH token and of the MSK SCRAM secret (stack
#   outputs AuthSecretArn, ScramSecretArn), copied to every service that uses them. Needed on the
#   first run and after a rotation; without them absent entries fail the run at the end.
set -euo pipefail
cd "$(dirname "$0")"

: "${VAULT_ADDR:?VAULT_ADDR: the Vault address (SSM parameter /<project>/<env>/vault/address)}"
: "${VAULT_CACERT:?VAULT_CACERT: the Vault CA certificate (ca.pem, docs/vault.md TLS secret setup)}"
: "${VAULT_TOKEN:?VAULT_TOKEN: a root or admin token}"
: "${K8S_HOST:?K8S_HOST: the EKS API endpoint}"
: "${K8S_CA_FILE:?K8S_CA_FILE: the EKS cluster CA bundle}"
: "${DATABASE_HOST:?DATABASE_HOST: the RDS writer endpoint}"
: "${PGUSER:?PGUSER: the RDS master user name}"
: "${PGPASSWORD:?PGPASSWORD: the RDS master password (its RDS-managed secret)}"
: "${RDS_CA_FILE:?RDS_CA_FILE: the RDS CA bundle of the region}"
for tool in vault jq openssl psql kubectl; do
  command -v "${tool}" >/dev/null || { echo "bootstrap: ${tool} is not installed" >&2; exit 1; }
done

param() { jq -r "$1" bootstrap.json; }
# Writes every `path: body` of a generated JSON file to Vault (the body on stdin, never argv).
write_all() {
  jq -r 'keys_unsorted[]' "$1" | while read -r path; do
    jq -c --arg p "${path}" '.[$p]' "$1" | vault write "${path}" - >/dev/null
    echo "wrote ${path}"
  done
}
kv_mount=$(param .kvMount)

# File audit device: the CloudWatch agent on each node ships this file (user data).
audit_file=${VAULT_AUDIT_FILE:-$(param .audit.file)}
vault audit list -format=json | jq -e 'has("file/")' >/dev/null \
  || vault audit enable file file_path="${audit_file}"

# Engines the policies read from.
mounts=$(vault secrets list -format=json)
jq -e --arg m "${kv_mount}/" 'has($m)' <<<"${mounts}" >/dev/null || vault secrets enable -path="${kv_mount}" kv-v2
jq -e 'has("database/")' <<<"${mounts}" >/dev/null || vault secrets enable database
pki_mount=$(param .pki.mount)
pki_ttl="$(param .pki.maxLeaseTtlSeconds)s"
jq -e --arg m "${pki_mount}/" 'has($m)' <<<"${mounts}" >/dev/null || vault secrets enable -path="${pki_mount}" -max-lease-ttl="${pki_ttl}" pki
vault secrets tune -max-lease-ttl="${pki_ttl}" "${pki_mount}/" >/dev/null

# Kubernetes auth: pods present projected service-account tokens with audience "vault", which
# Vault checks with the cluster's TokenReview API. Vault runs outside the cluster, so it calls that
# API with the long-lived token of its own reviewer account (bound to system:auth-delegator, in
# the charts), read from that account's token Secret, which the token controller fills.
vault auth list -format=json | jq -e 'has("kubernetes/")' >/dev/null || vault auth enable kubernetes
reviewer_namespace=$(param .kubernetesAuth.tokenReviewer.namespace)
reviewer_secret=$(param .kubernetesAuth.tokenReviewer.secret)
TOKEN_REVIEWER_JWT=
for _ in $(seq 30); do
  TOKEN_REVIEWER_JWT=$(kubectl get secret "${reviewer_secret}" --namespace "${reviewer_namespace}" -o 'jsonpath={.data.token}' 2>/dev/null | base64 -d || true)
  [[ -n "${TOKEN_REVIEWER_JWT}" ]] && break
  sleep 2
done
if [[ -z "${TOKEN_REVIEWER_JWT}" ]]; then
  echo "bootstrap: secret ${reviewer_namespace}/${reviewer_secret} holds no token after 60 s: is the vault-auth chart applied (the cluster stack deploys it)?" >&2
  exit 1
fi
export TOKEN_REVIEWER_JWT
# The body on stdin, so the token never shows in argv.
jq -n --arg host "${K8S_HOST}" --rawfile ca "${K8S_CA_FILE}" \
  '{kubernetes_host: $host, kubernetes_ca_cert: $ca, token_reviewer_jwt: env.TOKEN_REVIEWER_JWT, disable_local_ca_jwt: true}' \
  | vault write auth/kubernetes/config - >/dev/null
unset TOKEN_REVIEWER_JWT
echo "wrote auth/kubernetes/config (token reviewer ${reviewer_namespace}/${reviewer_secret})"

for policy in policies/*.hcl; do
  vault policy write "$(basename "${policy}" .hcl)" "${policy}" >/dev/null
done
write_all auth/kubernetes-roles.json

# Keys no store issues (auth-service's key-encryption key): generated once, never overwritten.
# A key that exists in any form, even soft-deleted, is kept: data encrypted with it depends on it.
jq -c '.generatedKeys[]' bootstrap.json | while read -r key; do
  path=$(jq -r .path <<<"${key}")
  if vault kv metadata get -mount="${kv_mount}" "${path}" >/dev/null 2>&1; then
    echo "kept ${kv_mount}/${path}"
  else
    # -cas=0: written only if still absent (another bootstrap may race us); the key goes via stdin.
    openssl rand -base64 "$(jq -r .bytes <<<"${key}")" | tr -d '\n' \
      | vault kv put -mount="${kv_mount}" -cas=0 "${path}" "$(jq -r .field <<<"${key}")=-" >/dev/null
    echo "generated ${kv_mount}/${path}"
  fi
done

# Secrets only an operator has (the Stripe secret key): never generated and never a placeholder,
# so a pod can start only with a real key. Written from the operator's file if absent (-cas=0, via
# stdin); an entry that is there but does not look like a key (e.g. "changeme") counts as missing.
missing_secrets=()
while read -r secret; do
  path=$(jq -r .path <<<"${secret}")
  field=$(jq -r .field <<<"${secret}")
  pattern=$(jq -r .pattern <<<"${secret}")
  from=$(jq -r .fileVariable <<<"${secret}")
  current=$(vault kv get -mount="${kv_mount}" -field="${field}" "${path}" 2>/dev/null || true)
  if [[ -z "${current}" && -n "${!from:-}" ]]; then
    value=$(tr -d '\r\n' <"${!from}")
    if [[ ! "${value}" =~ ${pattern} ]]; then
      echo "bootstrap: ${from} (${!from}) does not hold a key matching ${pattern}; nothing written" >&2
      exit 1
    fi
    printf '%s' "${value}" | vault kv put -mount="${kv_mount}" -cas=0 "${path}" "${field}=-" >/dev/null
    echo "wrote ${kv_mount}/${path} from ${from}"
    current=${value}
    unset value
  fi
  if [[ "${current}" =~ ${pattern} ]]; then echo "kept ${kv_mount}/${path}"; else missing_secrets+=("${secret}"); fi
  unset current
done < <(jq -c '.operatorSecrets[]' bootstrap.json)

# Credentials AWS issues (the ElastiCache AUTH token, the MSK SCRAM secret), copied into each
# consuming service's entry from the operator's file (the SecretString); an entry that differs is
# rewritten, so a run after a rotation brings every service along. Without the file, entries that
# are there are kept and absent ones fail the run at the end like operator secrets.
missing_credentials=()
while read -r credential; do
  name=$(jq -r .name <<<"${credential}")
  field=$(jq -r .field <<<"${credential}")
  from=$(jq -r .fileVariable <<<"${credential}")
  value=
  if [[ -n "${!from:-}" ]]; then
    value=$(cat "${!from}")
    username=$(jq -r '.username // empty' <<<"${credential}")
    if [[ -n "${username}" ]]; then
      # A SCRAM secret: JSON whose user must be the one the services log in as.
      if ! got=$(jq -er --arg u "${username}" 'if .username == $u and (.password | type) == "string" and .password != "" then .password else error("") end' <<<"${value}" 2>/dev/null); then
        echo "bootstrap: ${from} (${!from}) does not hold a SCRAM secret {\"username\": \"${username}\", \"password\": ...}; nothing written" >&2
        exit 1
      fi
      value=${got}
      unset got
    else
      value=$(tr -d '\r\n' <<<"${value}")
    fi
    if [[ -z "${value}" ]]; then
      echo "bootstrap: ${from} (${!from}) is empty; nothing written" >&2
      exit 1
    fi
  fi
  while read -r path; do
    current=$(vault kv get -mount="${kv_mount}" -field="${field}" "${path}" 2>/dev/null || true)
    if [[ -n "${value}" && "${current}" != "${value}" ]]; then
      printf '%s' "${value}" | vault kv put -mount="${kv_mount}" "${path}" "${field}=-" >/dev/null
      echo "wrote ${kv_mount}/${path} from ${from}"
    elif [[ -n "${current}" ]]; then
      echo "kept ${kv_mount}/${path}"
    else
      missing_credentials+=("${name} ${path}")
    fi
    unset current
  done < <(jq -r '.paths[]' <<<"${credential}")
  unset value
done < <(jq -c '.platformCredentials[]' bootstrap.json)

# The RDS CA bundle (public) PgBouncer verifies RDS with: refreshed when AWS publishes a new one.
rds_ca_path=$(param .rdsCa.path)
rds_ca_field=$(param .rdsCa.field)
if [[ "$(vault kv get -mount="${kv_mount}" -field="${rds_ca_field}" "${rds_ca_path}" 2>/dev/null || true)" != "$(cat "${RDS_CA_FILE}")" ]]; then
  vault kv put -mount="${kv_mount}" "${rds_ca_path}" "${rds_ca_field}=@${RDS_CA_FILE}" >/dev/null
  echo "wrote ${kv_mount}/${rds_ca_path}"
fi

# Database: the services' roles and databases, as the RDS master user.
db_port=${DATABASE_PORT:-$(param .database.port)}
export PGHOST="${DATABASE_HOST}" PGPORT="${db_port}" PGDATABASE=postgres PGSSLMODE=verify-full PGSSLROOTCERT="${RDS_CA_FILE}"
psql -X -q -v ON_ERROR_STOP=1 -f database/bootstrap.sql
db_admin=$(param .database.adminUser)
db_connection=$(param .database.connection)
desired=$(jq -c --arg p "database/config/${db_connection}" --arg host_placeholder "$(param .database.hostPlaceholder)" --arg host "${DATABASE_HOST}" \
  --arg port_placeholder "$(param .database.portPlaceholder)" --arg port "${db_port}" \
  '.[$p] | .connection_url |= (split($host_placeholder) | join($host) | split($port_placeholder) | join($port))' database/connection.json)
# Kept when Vault already has this connection and can still log in with the password it holds
# (database/reset reconnects with the stored configuration): a re-run changes nothing.
current=$(vault read -format=json "database/config/${db_connection}" 2>/dev/null | jq -c '.data | {
  plugin_name, allowed_roles, verify_connection, connection_url: .connection_details.connection_url,
  username: .connection_details.username, password_authentication: .connection_details.password_authentication}' || true)
if [[ -n "${current}" ]] && jq -e --argjson want "${desired}" '. == ($want | del(.password))' <<<"${current}" >/dev/null \
  && vault write -f "database/reset/${db_connection}" >/dev/null 2>&1; then
  echo "kept database/config/${db_connection}"
else
  # Vault's connection user gets a fresh password, which Vault at once replaces (rotate-root): no
  # person ever knows the one in use, and a run after a broken connection converges.
  DB_ADMIN_PASSWORD=$(openssl rand -base64 48 | tr -dc 'A-Za-z0-9' | head -c 40)
  export DB_ADMIN_PASSWORD
  printf 'ALTER ROLE "%s" PASSWORD '"'"'%s'"'"';\n' "${db_admin}" "${DB_ADMIN_PASSWORD}" | psql -X -q -v ON_ERROR_STOP=1
  jq -c '.password = env.DB_ADMIN_PASSWORD' <<<"${desired}" | vault write "database/config/${db_connection}" - >/dev/null
  unset DB_ADMIN_PASSWORD
  vault write -f "database/rotate-root/${db_connection}" >/dev/null
  echo "configured database/config/${db_connection} (root rotated)"
fi
# Static roles: Vault sets each user's password on creation and rotates it every rotation_period.
write_all database/static-roles.json

# PKI: the URLs first, so the root CA generated inside Vault once (its key never leaves Vault)
# carries them (AIA and CRL distribution point), then the services role.
vault write "${pki_mount}/config/urls" issuing_certificates="$(param .pki.issuingCertificates)" \
  crl_distribution_points="$(param .pki.crlDistributionPoints)" >/dev/null
if ! vault list -format=json "${pki_mount}/issuers" >/dev/null 2>&1; then
  vault write "${pki_mount}/root/generate/internal" common_name="$(param .pki.commonName)" \
    key_type=ec key_bits=256 ttl="${pki_ttl}" issuer_name=services-root >/dev/null
  echo "generated the ${pki_mount} root CA"
fi
write_all pki/roles.json

# The Vault CA (public) as Secret vault-ca in every namespace whose pods talk to Vault: the
# injector's agents and cert-manager's Vault issuer verify Vault with it. The namespaces come
# from the cluster stack's charts, so this runs after the cluster is deployed.
# One apply for all of them: a kubectl process costs more than the API calls it makes.
jq --rawfile ca "${VAULT_CACERT}" '.vaultCa as $v | {apiVersion: "v1", kind: "List", items: [$v.namespaces[] | {
  apiVersion: "v1", kind: "Secret", type: "Opaque", metadata: {name: $v.name, namespace: .}, data: {($v.key): ($ca | @base64)}}]}' \
  bootstrap.json | kubectl apply -f - >/dev/null
ca_secret=$(param .vaultCa.name)
for namespace in $(param '.vaultCa.namespaces[]'); do echo "applied secret ${namespace}/${ca_secret}"; done

# Last, so everything else is applied: an operator secret or credential that is missing fails the run loudly.
for missing in "${missing_credentials[@]}"; do
  read -r name path <<<"${missing}"
  credential=$(jq -c --arg n "${name}" '.platformCredentials[] | select(.name == $n)' bootstrap.json)
  echo "bootstrap: ${kv_mount}/${path} is absent: it takes $(jq -r .description <<<"${credential}")." >&2
  echo "  re-run bootstrap with $(jq -r .fileVariable <<<"${credential}") naming a file that holds it, e.g." >&2
  echo "    $(jq -r .fileVariable <<<"${credential}")=<(aws secretsmanager get-secret-value --query SecretString --output text --secret-id \"\$(aws cloudformation describe-stacks --stack-name $(jq -r .stack <<<"${credential}") --query \"Stacks[0].Outputs[?OutputKey=='$(jq -r .output <<<"${credential}")'].OutputValue\" --output text)\")" >&2
done
if ((${#missing_credentials[@]} > 0 && ${#missing_secrets[@]} == 0)); then exit 1; fi
if ((${#missing_secrets[@]} > 0)); then
  for secret in "${missing_secrets[@]}"; do
    path=$(jq -r .path <<<"${secret}")
    echo "bootstrap: ${kv_mount}/${path} has no valid $(jq -r .field <<<"${secret}"): $(jq -r .description <<<"${secret}")." >&2
    echo "  put it (the key from a file, never on the command line), then re-run bootstrap:" >&2
    echo "    vault kv put -mount=${kv_mount} ${path} $(jq -r .field <<<"${secret}")=- < <key file>" >&2
    echo "  or, if the entry is absent, re-run with $(jq -r .fileVariable <<<"${secret}")=<key file>" >&2
  done
  exit 1
fi
