import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { VaultSpec } from '../../spec';

export interface VaultUserDataProps {
  readonly vault: VaultSpec;
  /** The region the node runs in: its DynamoDB table, KMS key and secrets are regional. */
  readonly region: string;
  /** DynamoDB storage table (the global table's replica in this region, or the cluster's own). */
  readonly tableName: string;
  /** Key id of the auto-unseal key; a multi-region key has the same id in both regions. */
  readonly unsealKeyId: string;
  readonly tlsSecretName: string;
  readonly auditLogGroupName: string;
  /**
   * Vault Enterprise (DR replication): installs vault-enterprise and reads the license secret.
   * @default - Vault community edition, no license
   */
  readonly licenseSecretName?: string;
}

const TLS_DIR = '/opt/vault/tls';
export const VAULT_AUDIT_LOG = '/var/log/vault/audit.log';

/**
 * The boot script of a Vault node: Vault from HashiCorp's RPM repository (reached through the
 * NAT), TLS material from Secrets Manager, DynamoDB storage with HA, AWS KMS auto-unseal, and the
 * CloudWatch agent shipping the file audit device's log. Every value comes from the spec.
 */
export function vaultUserData(props: VaultUserDataProps): ec2.UserData {
  const { vault, region } = props;
  const enterprise = props.licenseSecretName !== undefined;
  const pkg = enterprise ? `vault-enterprise-${vault.version}+ent` : `vault-${vault.version}`;
  const getSecret = (name: string) =>
    `aws secretsmanager get-secret-value --region ${region} --secret-id ${name} --query SecretString --output text`;
  const agentConfig = JSON.stringify({
    logs: {
      logs_collected: {
        files: {
          collect_list: [{ file_path: VAULT_AUDIT_LOG, log_group_name: props.auditLogGroupName, log_stream_name: '{instance_id}' }],
        },
      },
    },
  });
  const userData = ec2.UserData.forLinux();
  userData.addCommands(
    'set -euo pipefail',
    'dnf install -y dnf-plugins-core jq amazon-cloudwatch-agent',
    `dnf config-manager --add-repo ${vault.packageRepository}/AmazonLinux/hashicorp.repo`,
    `dnf install -y ${pkg}`,
    'IMDS_TOKEN=$(curl -sS -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 300")',
    'NODE_IP=$(curl -sS -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" http://169.254.169.254/latest/meta-data/local-ipv4)',
    `install -d -o vault -g vault -m 0750 ${TLS_DIR} /var/log/vault`,
    // The TLS secret is created empty by the stack and filled out of band (docs/vault.md): wait for it.
    `until ${getSecret(props.tlsSecretName)} > /run/vault-tls.json && jq -e '.certificate and .privateKey and .ca' /run/vault-tls.json >/dev/null; do echo "waiting for ${props.tlsSecretName}"; sleep 30; done`,
    `jq -r .ca /run/vault-tls.json > ${TLS_DIR}/ca.pem`,
    `jq -r .certificate /run/vault-tls.json > ${TLS_DIR}/cert.pem`,
    `(umask 077; jq -r .privateKey /run/vault-tls.json > ${TLS_DIR}/key.pem)`,
    'rm -f /run/vault-tls.json',
    `chown vault:vault ${TLS_DIR}/*`,
    ...(enterprise
      ? [`until ${getSecret(props.licenseSecretName!)} > /etc/vault.d/license.hclic; do sleep 30; done`, 'chown vault:vault /etc/vault.d/license.hclic', 'chmod 0600 /etc/vault.d/license.hclic']
      : []),
    'cat > /etc/vault.d/vault.hcl <<EOF_VAULT',
    'ui = false',
    `api_addr = "https://\${NODE_IP}:${vault.apiPort}"`,
    `cluster_addr = "https://\${NODE_IP}:${vault.clusterPort}"`,
    ...(enterprise ? ['license_path = "/etc/vault.d/license.hclic"'] : []),
    'listener "tcp" {',
    `  address = "0.0.0.0:${vault.apiPort}"`,
    `  cluster_address = "0.0.0.0:${vault.clusterPort}"`,
    `  tls_cert_file = "${TLS_DIR}/cert.pem"`,
    `  tls_key_file = "${TLS_DIR}/key.pem"`,
    '  tls_min_version = "tls12"',
    '}',
    // ha_enabled: the HA lock lives in the table. Only one cluster may run on a table at a time:
    // a global table is last-writer-wins across regions, so two regions would both win the lock.
    'storage "dynamodb" {',
    '  ha_enabled = "true"',
    `  region = "${region}"`,
    `  table = "${props.tableName}"`,
    '}',
    'seal "awskms" {',
    `  region = "${region}"`,
    `  kms_key_id = "${props.unsealKeyId}"`,
    '}',
    'EOF_VAULT',
    'chown root:vault /etc/vault.d/vault.hcl && chmod 0640 /etc/vault.d/vault.hcl',
    `cat > /etc/profile.d/vault.sh <<'EOF_PROFILE'`,
    `export VAULT_ADDR=https://127.0.0.1:${vault.apiPort} VAULT_CACERT=${TLS_DIR}/ca.pem`,
    'EOF_PROFILE',
    // The file audit device (enabled once at bootstrap) writes here; the agent ships it, logrotate bounds it.
    `cat > /etc/logrotate.d/vault-audit <<'EOF_ROTATE'`,
    `${VAULT_AUDIT_LOG} {\n  daily\n  rotate 7\n  compress\n  missingok\n  notifempty\n  postrotate\n    systemctl reload vault\n  endscript\n}`,
    'EOF_ROTATE',
    `cat > /opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json <<'EOF_AGENT'`,
    agentConfig,
    'EOF_AGENT',
    '/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json',
    'systemctl enable --now vault',
  );
  return userData;
}
