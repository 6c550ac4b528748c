-- The first schema of the ecosync store. Timestamps are timestamptz (UTC instants); JSON is jsonb.
-- Policies the sync layer may extend (conflict policy) are plain text without a CHECK, so a new
-- policy needs no migration; closed sets the store itself relies on are CHECKed.

CREATE TABLE connections (
  id                 uuid PRIMARY KEY,
  name               text NOT NULL UNIQUE,
  source_system      text NOT NULL,
  target_system      text NOT NULL,
  mode               text NOT NULL CHECK (mode IN ('one-way', 'bidirectional')),
  -- Object pairs and their mapping files: [{ entity, sourceObject, targetObject, sourceMapping, targetMapping }].
  objects            jsonb NOT NULL DEFAULT '[]',
  delete_policy      text NOT NULL DEFAULT 'ignore' CHECK (delete_policy IN ('propagate', 'ignore')),
  conflict_policy    text NOT NULL DEFAULT 'last-writer-wins',
  -- Seconds between scheduled runs; NULL = only on demand or by webhook.
  schedule_seconds   integer CHECK (schedule_seconds > 0),
  enabled            boolean NOT NULL DEFAULT true,
  -- AES-256-GCM envelope "v1.<iv>.<tag>.<ciphertext>" (base64) and the id of the key that sealed it.
  credentials        text,
  credentials_key_id text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  CHECK ((credentials IS NULL) = (credentials_key_id IS NULL))
);

-- The last agreed canonical state of every record: the base of three-way merges.
CREATE TABLE records (
  entity       text NOT NULL,
  canonical_id uuid NOT NULL,
  data         jsonb NOT NULL,
  content_hash text NOT NULL,
  -- Bumped on every change; writers may pass the version they read to detect a concurrent change.
  version      integer NOT NULL DEFAULT 1,
  deleted      boolean NOT NULL DEFAULT false,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (entity, canonical_id)
);

-- Which external record each canonical record is, per system and object (one row per side).
CREATE TABLE links (
  entity           text NOT NULL,
  canonical_id     uuid NOT NULL,
  system           text NOT NULL,
  object           text NOT NULL,
  external_id      text NOT NULL,
  -- Content hash of this side as last synced, to suppress echoes of our own writes.
  last_hash        text,
  last_modified_at timestamptz,
  version          integer NOT NULL DEFAULT 1,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (system, object, external_id),
  -- A canonical record has at most one counterpart per system object.
  CONSTRAINT links_one_per_side UNIQUE (entity, canonical_id, system, object)
);

CREATE TABLE cursors (
  connection_id uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
  system        text NOT NULL,
  object        text NOT NULL,
  cursor        jsonb NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, system, object)
);

CREATE TABLE sync_runs (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  connection_id     uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
  workflow_id       text,
  run_id            text,
  mode              text NOT NULL CHECK (mode IN ('incremental', 'full')),
  status            text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
  started_at        timestamptz NOT NULL DEFAULT now(),
  finished_at       timestamptz,
  records_read      integer NOT NULL DEFAULT 0,
  records_created   integer NOT NULL DEFAULT 0,
  records_updated   integer NOT NULL DEFAULT 0,
  records_unchanged integer NOT NULL DEFAULT 0,
  records_deleted   integer NOT NULL DEFAULT 0,
  records_failed    integer NOT NULL DEFAULT 0,
  conflicts_found   integer NOT NULL DEFAULT 0,
  error             text
);
CREATE INDEX sync_runs_by_connection ON sync_runs (connection_id, started_at DESC);

CREATE TABLE dead_letters (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  connection_id  uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
  -- 'read': the source record could not be mapped or validated; 'write': the target rejected it.
  direction      text NOT NULL CHECK (direction IN ('read', 'write')),
  system         text NOT NULL,
  object         text NOT NULL,
  external_id    text,
  canonical_id   uuid,
  -- What identifies the failing record, so a second failure of it updates the open letter.
  record_key     text GENERATED ALWAYS AS (coalesce(external_id, canonical_id::text)) STORED,
  payload        jsonb NOT NULL,
  reason         text NOT NULL,
  error_code     text,
  failing_fields jsonb NOT NULL DEFAULT '[]',
  attempts       integer NOT NULL DEFAULT 1,
  first_failed_at timestamptz NOT NULL DEFAULT now(),
  last_failed_at timestamptz NOT NULL DEFAULT now(),
  status         text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'replayed', 'discarded')),
  resolved_at    timestamptz
);
CREATE UNIQUE INDEX dead_letters_one_open_per_record
  ON dead_letters (connection_id, direction, system, object, record_key) WHERE status = 'open';
CREATE INDEX dead_letters_by_connection ON dead_letters (connection_id, status, last_failed_at DESC);

CREATE TABLE conflicts (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  connection_id  uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
  entity         text NOT NULL,
  canonical_id   uuid NOT NULL,
  field          text NOT NULL,
  base_value     jsonb,
  -- Each side's value: { "<system>": { "value": ..., "modifiedAt": "..." } }.
  sides          jsonb NOT NULL,
  status         text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
  -- { "kind": "side", "system": "..." } or { "kind": "manual" }; resolved_value is the value that won.
  resolution     jsonb,
  resolved_value jsonb,
  resolved_by    text,
  resolved_at    timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX conflicts_one_open_per_field ON conflicts (canonical_id, field) WHERE status = 'open';
CREATE INDEX conflicts_by_connection ON conflicts (connection_id, status, created_at DESC);
