-- Up Migration
-- A change of an account's login email under way (services/README.md "Changing the login
-- email"). The profile in user-service changes first, then the credential here; this row says how
-- to finish after a failure or a crash: 'applying' (profile to new_email, then the credential) or
-- 'reverting' (profile back to old_email). One change per account at a time; while it lasts the
-- credential keeps old_email, so login with the old address works until the change completes.
CREATE TABLE email_changes (
  user_id    uuid PRIMARY KEY REFERENCES credentials (user_id) ON DELETE CASCADE,
  old_email  text NOT NULL,
  new_email  text NOT NULL UNIQUE CHECK (new_email = lower(new_email)),
  state      text NOT NULL CHECK (state IN ('applying', 'reverting')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE email_changes;
