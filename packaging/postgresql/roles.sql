-- facetrail on PostgreSQL: roles and privileges with least privilege (docs/DEPLOYMENT.md).
--
-- Run as a superuser (or a role with CREATEROLE that owns the database), connected to
-- facetrail's database, e.g.
--     psql -v ON_ERROR_STOP=1 -h db.county.example -U postgres -d facetrail -f roles.sql
-- The script is plain SQL (no psql meta-commands) and idempotent. Run it
--   1. once before facetrail first opens the database (roles, schema, default privileges), and
--   2. again after every schema migration (the first start of a facetrail version, run as
--      facetrail_owner): it grants the application role what it needs on the tables that now
--      exist, and takes from it what it must not have on the audit tables.
-- It sets no password: give the login roles one (`\password facetrail_app` in psql, kept in
-- the servers' ~/.pgpass or PGPASSWORD) or use certificate authentication (pg_hba.conf).
--
-- The roles:
--   facetrail_owner  owns the schema `facetrail` and every table in it; schema migrations run as
--                    it. Not what the servers log in as day to day.
--   facetrail_app    what `facetrail serve` logs in as. Reads every table; inserts, updates and
--                    deletes facetrail's ordinary rows; on the audit tables (audit_entries,
--                    audit_checkpoints) it may only SELECT and INSERT: no UPDATE, DELETE or
--                    TRUNCATE. It cannot create, alter or drop tables, nor disable triggers
--                    (only a table's owner or a superuser can), nor change schema_versions.
-- The append-only triggers of the audit tables refuse UPDATE, DELETE and TRUNCATE to every role,
-- the owner included; only a superuser or the owner can switch them off, which `facetrail audit
-- verify` reports, and a rewrite is caught by the signed checkpoints (docs/AUDIT.md).

DO $roles$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'facetrail_owner') THEN
    CREATE ROLE facetrail_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'facetrail_app') THEN
    CREATE ROLE facetrail_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION;
  END IF;
END
$roles$;

-- The database: only facetrail's roles connect; nobody else may create schemas or temporary
-- tables in it.
DO $database$
BEGIN
  EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO facetrail_owner, facetrail_app',
                 current_database());
  -- Both roles find facetrail's tables without qualifying them (common/db.h never does).
  EXECUTE format('ALTER ROLE facetrail_owner IN DATABASE %I SET search_path = facetrail',
                 current_database());
  EXECUTE format('ALTER ROLE facetrail_app IN DATABASE %I SET search_path = facetrail',
                 current_database());
END
$database$;

REVOKE CREATE ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA IF NOT EXISTS facetrail AUTHORIZATION facetrail_owner;
REVOKE ALL ON SCHEMA facetrail FROM PUBLIC;
GRANT USAGE ON SCHEMA facetrail TO facetrail_app;

-- Tables a later migration creates: readable and insertable at once, never more until this
-- script runs again (a forgotten run shows as "permission denied" on an UPDATE, not as an
-- application role that may rewrite a new table of the audit log).
ALTER DEFAULT PRIVILEGES FOR ROLE facetrail_owner IN SCHEMA facetrail
  GRANT SELECT, INSERT ON TABLES TO facetrail_app;
ALTER DEFAULT PRIVILEGES FOR ROLE facetrail_owner IN SCHEMA facetrail
  GRANT USAGE, SELECT ON SEQUENCES TO facetrail_app;

-- Tables that exist now.
DO $tables$
DECLARE
  t record;
BEGIN
  FOR t IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'facetrail' AND c.relkind IN ('r', 'p') LOOP
    EXECUTE format('REVOKE ALL ON facetrail.%I FROM facetrail_app', t.relname);
    IF t.relname IN ('audit_entries', 'audit_checkpoints', 'schema_versions') THEN
      -- Append-only (audit), or the owner's business (schema versions).
      IF t.relname = 'schema_versions' THEN
        EXECUTE format('GRANT SELECT ON facetrail.%I TO facetrail_app', t.relname);
      ELSE
        EXECUTE format('GRANT SELECT, INSERT ON facetrail.%I TO facetrail_app', t.relname);
      END IF;
    ELSE
      EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON facetrail.%I TO facetrail_app',
                     t.relname);
    END IF;
  END LOOP;
END
$tables$;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA facetrail TO facetrail_app;
