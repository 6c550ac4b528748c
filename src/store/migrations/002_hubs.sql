-- A connection becomes a hub: any number of systems around one set of canonical records.
--
-- * connections name their systems (`systems`: name, connector kind, role, and the instance the
--   system says it is once known) and, per entity in dependency order, which systems take part
--   with which object and mapping file (`entities`). source/target/mode/objects go: a two-system
--   connection is the same hub with two systems (one-way: a `source` and a `target`).
-- * records and links belong to one connection, so one connection's state never hides a change
--   from another that shares a system; links name the system instance (`salesforce:00D…`), so two
--   systems of one kind never share links. Until a connection's systems have said which instance
--   they are, their links and cursors carry the system's name in the connection; the sync
--   adopts them under the instance the first time it reaches the system.

ALTER TABLE connections
  ADD COLUMN systems jsonb,
  ADD COLUMN entities jsonb,
  ADD COLUMN update_after_delete text NOT NULL DEFAULT 'skip' CHECK (update_after_delete IN ('skip', 'resurrect'));

UPDATE connections SET
  systems = jsonb_build_array(
    jsonb_build_object('name', source_system, 'system', source_system, 'instance', NULL,
      'role', CASE WHEN mode = 'bidirectional' THEN 'both' ELSE 'source' END),
    jsonb_build_object('name', target_system, 'system', target_system, 'instance', NULL,
      'role', CASE WHEN mode = 'bidirectional' THEN 'both' ELSE 'target' END)),
  entities = (
    SELECT coalesce(jsonb_agg(jsonb_build_object(
      'entity', o->>'entity',
      'members', jsonb_build_array(
        jsonb_build_object('system', source_system, 'object', o->>'sourceObject', 'mapping', o->>'sourceMapping'),
        jsonb_build_object('system', target_system, 'object', o->>'targetObject', 'mapping', o->>'targetMapping')))
      ORDER BY ord), '[]'::jsonb)
    FROM jsonb_array_elements(objects) WITH ORDINALITY AS x(o, ord));

ALTER TABLE connections ALTER COLUMN systems SET NOT NULL, ALTER COLUMN entities SET NOT NULL;

-- Links: one copy per connection that has the system, under the system's name for now.
CREATE TABLE hub_links (
  connection_id    uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
  entity           text NOT NULL,
  canonical_id     uuid NOT NULL,
  -- The system instance (`hubspot:4455667`), or the system's name until it is known.
  instance         text NOT NULL,
  object           text NOT NULL,
  external_id      text NOT NULL,
  last_hash        text,
  last_modified_at timestamptz,
  version          integer NOT NULL DEFAULT 1,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, instance, object, external_id),
  -- A canonical record has at most one counterpart per system object.
  CONSTRAINT hub_links_one_per_side UNIQUE (connection_id, entity, canonical_id, instance, object)
);
INSERT INTO hub_links (connection_id, entity, canonical_id, instance, object, external_id, last_hash, last_modified_at, version, created_at, updated_at)
SELECT c.id, l.entity, l.canonical_id, l.system, l.object, l.external_id, l.last_hash, l.last_modified_at, l.version, l.created_at, l.updated_at
FROM links l JOIN connections c ON l.system IN (c.source_system, c.target_system);

CREATE TABLE hub_records (
  connection_id uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
  entity        text NOT NULL,
  canonical_id  uuid NOT NULL,
  data          jsonb NOT NULL,
  content_hash  text NOT NULL,
  version       integer NOT NULL DEFAULT 1,
  deleted       boolean NOT NULL DEFAULT false,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, entity, canonical_id)
);
INSERT INTO hub_records (connection_id, entity, canonical_id, data, content_hash, version, deleted, updated_at)
SELECT DISTINCT l.connection_id, r.entity, r.canonical_id, r.data, r.content_hash, r.version, r.deleted, r.updated_at
FROM records r JOIN hub_links l ON l.entity = r.entity AND l.canonical_id = r.canonical_id;

DROP TABLE links;
DROP TABLE records;
ALTER TABLE hub_links RENAME TO links;
ALTER TABLE links RENAME CONSTRAINT hub_links_one_per_side TO links_one_per_side;
ALTER TABLE hub_records RENAME TO records;

ALTER TABLE connections DROP COLUMN source_system, DROP COLUMN target_system, DROP COLUMN mode, DROP COLUMN objects;

-- Cursors are kept per system instance too.
ALTER TABLE cursors RENAME COLUMN system TO instance;

-- One open conflict per field of a record in each connection.
DROP INDEX conflicts_one_open_per_field;
CREATE UNIQUE INDEX conflicts_one_open_per_field ON conflicts (connection_id, canonical_id, field) WHERE status = 'open';
