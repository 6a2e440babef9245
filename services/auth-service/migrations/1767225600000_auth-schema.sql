-- Up Migration

-- One row per account; the profile itself lives in user-service under the same id.
CREATE TABLE credentials (
  user_id       uuid PRIMARY KEY,
  email         text NOT NULL UNIQUE CHECK (email = lower(email)),
  password_hash text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- The catalogue of actions; anything else is denied even for a role holding `*`.
CREATE TABLE actions (
  name        text PRIMARY KEY CHECK (name ~ '^[a-z][a-z-]*:[a-z][a-z-]*$'),
  description text NOT NULL
);

CREATE TABLE roles (
  name        text PRIMARY KEY CHECK (name ~ '^[a-z][a-z-]*$'),
  description text NOT NULL
);

-- action_pattern: an action, `<resource-kind>:*` or `*`. resource_pattern: `/`-separated
-- segments where `*` matches one segment, a final `**` any rest, and `{self}` the subject's id.
CREATE TABLE permissions (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  action_pattern   text NOT NULL,
  resource_pattern text NOT NULL,
  UNIQUE (action_pattern, resource_pattern)
);

CREATE TABLE role_permissions (
  role          text NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
  permission_id bigint NOT NULL REFERENCES permissions (id) ON DELETE CASCADE,
  PRIMARY KEY (role, permission_id)
);

CREATE TABLE user_roles (
  user_id    uuid NOT NULL REFERENCES credentials (user_id) ON DELETE CASCADE,
  role       text NOT NULL REFERENCES roles (name),
  granted_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, role)
);

-- Refresh tokens are stored only as SHA-256 hashes. A login starts a family; each refresh spends
-- one token (used_at) and adds the next; presenting a spent token revokes the whole family.
CREATE TABLE refresh_tokens (
  id          uuid PRIMARY KEY,
  family_id   uuid NOT NULL,
  user_id     uuid NOT NULL REFERENCES credentials (user_id) ON DELETE CASCADE,
  token_hash  bytea NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);

-- Access tokens revoked by logout, until they expire; Redis holds the same set for fast reads.
CREATE TABLE revoked_access_tokens (
  jti        uuid PRIMARY KEY,
  expires_at timestamptz NOT NULL
);
CREATE INDEX revoked_access_tokens_expires_idx ON revoked_access_tokens (expires_at);

-- ES256 signing keys. The private key is AES-256-GCM encrypted (iv || tag || ciphertext, the kid
-- as associated data). Which key signs is decided by activates_at, so replicas agree without
-- coordination; `state` mirrors it for operators.
CREATE TABLE signing_keys (
  kid             text PRIMARY KEY,
  alg             text NOT NULL CHECK (alg = 'ES256'),
  public_jwk      jsonb NOT NULL,
  private_key_enc bytea NOT NULL,
  state           text NOT NULL CHECK (state IN ('next', 'active', 'retired')),
  created_at      timestamptz NOT NULL,
  activates_at    timestamptz NOT NULL,
  retires_at      timestamptz
);
CREATE UNIQUE INDEX signing_keys_one_active_idx ON signing_keys (state) WHERE state = 'active';

INSERT INTO actions (name, description) VALUES
  ('users:read', 'read a user profile'),
  ('users:update', 'change a user profile'),
  ('users:list', 'list user profiles'),
  ('users:delete', 'delete a user profile'),
  ('orders:create', 'place an order'),
  ('orders:read', 'read an order'),
  ('orders:list', 'list orders'),
  ('orders:cancel', 'cancel an order'),
  ('payments:read', 'read a payment'),
  ('payments:refund', 'refund a payment'),
  ('auth:rotate-keys', 'start a signing-key rotation'),
  ('auth:grant-roles', 'grant or revoke roles');

INSERT INTO roles (name, description) VALUES
  ('customer', 'a registered user: their own profile and orders'),
  ('admin', 'operators: every action on every resource');

INSERT INTO permissions (action_pattern, resource_pattern) VALUES
  ('*', '**'),
  ('users:read', 'users/{self}'),
  ('users:update', 'users/{self}'),
  ('orders:*', 'users/{self}/orders'),
  ('orders:*', 'users/{self}/orders/*');

INSERT INTO role_permissions (role, permission_id)
  SELECT 'admin', id FROM permissions WHERE action_pattern = '*' AND resource_pattern = '**';
INSERT INTO role_permissions (role, permission_id)
  SELECT 'customer', id FROM permissions WHERE NOT (action_pattern = '*' AND resource_pattern = '**');

-- Down Migration
DROP TABLE signing_keys;
DROP TABLE revoked_access_tokens;
DROP TABLE refresh_tokens;
DROP TABLE user_roles;
DROP TABLE role_permissions;
DROP TABLE permissions;
DROP TABLE roles;
DROP TABLE actions;
DROP TABLE credentials;
