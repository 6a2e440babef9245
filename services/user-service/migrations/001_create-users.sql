-- Up Migration
-- The spec's ER diagram: users (id, email, name, created_at). created_at is kept to the
-- millisecond so keyset cursors round-trip exactly through JavaScript dates.
CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email text NOT NULL,
  name text NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_at timestamptz(3) NOT NULL DEFAULT now(),
  CONSTRAINT users_email_key UNIQUE (email),
  CONSTRAINT users_email_normalised CHECK (email = lower(btrim(email))),
  CONSTRAINT users_name_length CHECK (char_length(name) BETWEEN 1 AND 200)
);

-- ListUsers pages by (created_at, id).
CREATE INDEX users_created_at_id_idx ON users (created_at, id);

-- Down Migration
DROP TABLE users;
