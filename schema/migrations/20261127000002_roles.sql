-- Roles, ownership, grants and fail-closed row-level security.
--
-- Applies on top of our baseline and on top of a database created by the
-- original service (after `go run ./server migrate -baseline 20261127000001`).
-- Run it as a superuser, or as the database owner with CREATEROLE (Cloud SQL's
-- `postgres`). Roles (DECISIONS.md §2):
--
--   huey_owner     LOGIN, owns every object of ours; later migrations may run as it
--   huey_api       LOGIN NOINHERIT; the services' login; owns nothing; member of huey_app only
--   huey_app       NOLOGIN; the role every API request runs as (set_config('role', 'huey_app', true))
--   huey_staff_ro  LOGIN; staff scripts that read
--   huey_staff_rw  LOGIN; staff scripts that write the catalogue, schools and collections
--   huey_definer   NOLOGIN; owns the few SECURITY DEFINER functions (authentication,
--                  policy attribute look-ups, class-code sign-in); it holds only the
--                  grants and policies those functions need
--
-- None has SUPERUSER or BYPASSRLS. Passwords are not set here: operators set them
-- (`make run` and the test harness generate their own).
--
-- Every table below gets ENABLE and FORCE ROW LEVEL SECURITY. A table with RLS
-- and no policy returns no rows and accepts no writes for anyone but a superuser:
-- that is the default. This file adds read policies only for the reference
-- tables (countries, hues, reading_abilities); the policies of every other
-- table arrive with the migration of the resource that uses it.
--
-- Tables of an original database that we do not use (CMS, chat, analytics,
-- webhooks; domain.md §13) are left untouched and get no grants. event_outbox and
-- task_idempotency_records belong to the original's CMS/chat workers: ours gets
-- no grants on them either.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'huey_owner') THEN
    CREATE ROLE huey_owner LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'huey_app') THEN
    CREATE ROLE huey_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'huey_api') THEN
    CREATE ROLE huey_api LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'huey_staff_ro') THEN
    CREATE ROLE huey_staff_ro LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'huey_staff_rw') THEN
    CREATE ROLE huey_staff_rw LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'huey_definer') THEN
    CREATE ROLE huey_definer NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB;
  END IF;
  -- The migrating login must be able to hand objects to huey_owner.
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
     AND NOT pg_has_role(current_user, 'huey_owner', 'MEMBER') THEN
    EXECUTE format('GRANT huey_owner TO %I', current_user);
  END IF;
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
     AND NOT pg_has_role(current_user, 'huey_definer', 'MEMBER') THEN
    EXECUTE format('GRANT huey_definer TO %I', current_user);
  END IF;
END
$$;

GRANT huey_app TO huey_api;

-- The API's statements are prepared once per connection and carry row-level
-- security quals; custom plans would re-plan them (policies included) on every
-- execution. Generic plans are planned once: a primary-key read under RLS went
-- from ~0.75 ms to ~0.27 ms.
ALTER ROLE huey_api SET plan_cache_mode = force_generic_plan;

-- Schemas: ours for helper functions, and public.
CREATE SCHEMA IF NOT EXISTS huey AUTHORIZATION huey_owner;
REVOKE ALL ON SCHEMA huey FROM PUBLIC;
GRANT USAGE ON SCHEMA huey TO huey_app, huey_staff_ro, huey_staff_rw;
-- huey_api (NOINHERIT) needs to resolve names while a batch is prepared, before
-- the batch's first statement switches the role; USAGE grants nothing else.
GRANT USAGE ON SCHEMA huey TO huey_api;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO huey_owner;
GRANT USAGE ON SCHEMA public TO huey_app, huey_staff_ro, huey_staff_rw;

-- Ownership of every object of ours (sequences owned by a column follow their table).
ALTER TABLE public.countries OWNER TO huey_owner;
ALTER TABLE public.schools OWNER TO huey_owner;
ALTER TABLE public.class_groups OWNER TO huey_owner;
ALTER TABLE public.users OWNER TO huey_owner;
ALTER TABLE public.parents OWNER TO huey_owner;
ALTER TABLE public.readers OWNER TO huey_owner;
ALTER TABLE public.public_readers OWNER TO huey_owner;
ALTER TABLE public.students OWNER TO huey_owner;
ALTER TABLE public.educators OWNER TO huey_owner;
ALTER TABLE public.school_admins OWNER TO huey_owner;
ALTER TABLE public.wriveted_admins OWNER TO huey_owner;
ALTER TABLE public.supporters OWNER TO huey_owner;
ALTER TABLE public.supporter_reader_association OWNER TO huey_owner;
ALTER TABLE public.service_accounts OWNER TO huey_owner;
ALTER TABLE public.service_account_school_association OWNER TO huey_owner;
ALTER TABLE public.authors OWNER TO huey_owner;
ALTER TABLE public.illustrators OWNER TO huey_owner;
ALTER TABLE public.series OWNER TO huey_owner;
ALTER TABLE public.works OWNER TO huey_owner;
ALTER TABLE public.editions OWNER TO huey_owner;
ALTER TABLE public.author_work_association OWNER TO huey_owner;
ALTER TABLE public.illustrator_edition_association OWNER TO huey_owner;
ALTER TABLE public.series_works_association OWNER TO huey_owner;
ALTER TABLE public.hues OWNER TO huey_owner;
ALTER TABLE public.reading_abilities OWNER TO huey_owner;
ALTER TABLE public.labelsets OWNER TO huey_owner;
ALTER TABLE public.labelset_hue_association OWNER TO huey_owner;
ALTER TABLE public.labelset_reading_ability_association OWNER TO huey_owner;
ALTER TABLE public.collections OWNER TO huey_owner;
ALTER TABLE public.collection_items OWNER TO huey_owner;
ALTER TABLE public.collection_item_activity_log OWNER TO huey_owner;
ALTER TABLE public.book_lists OWNER TO huey_owner;
ALTER TABLE public.book_list_works OWNER TO huey_owner;
ALTER TABLE public.events OWNER TO huey_owner;
ALTER TABLE public.products OWNER TO huey_owner;
ALTER TABLE public.subscriptions OWNER TO huey_owner;
ALTER TABLE public.event_outbox OWNER TO huey_owner;
ALTER TABLE public.task_idempotency_records OWNER TO huey_owner;
ALTER MATERIALIZED VIEW public.work_collection_frequency OWNER TO huey_owner;
ALTER MATERIALIZED VIEW public.search_view_v1 OWNER TO huey_owner;
ALTER FUNCTION public.update_edition_title() OWNER TO huey_owner;
ALTER FUNCTION public.update_edition_title_from_work() OWNER TO huey_owner;
ALTER FUNCTION public.update_collections_function() OWNER TO huey_owner;
ALTER FUNCTION public.encode_uri_component(text) OWNER TO huey_owner;
ALTER FUNCTION public.refresh_search_view_v1_function() OWNER TO huey_owner;
ALTER FUNCTION public.refresh_work_collection_frequency_view_function() OWNER TO huey_owner;
ALTER TYPE public.enum_user_account_type OWNER TO huey_owner;
ALTER TYPE public.serviceaccounttype OWNER TO huey_owner;
ALTER TYPE public.schoolstate OWNER TO huey_owner;
ALTER TYPE public.schoolbookbottype OWNER TO huey_owner;
ALTER TYPE public.worktype OWNER TO huey_owner;
ALTER TYPE public.enum_book_list_type OWNER TO huey_owner;
ALTER TYPE public.enum_book_list_sharing OWNER TO huey_owner;
ALTER TYPE public.enum_collection_item_read_status OWNER TO huey_owner;
ALTER TYPE public.eventlevel OWNER TO huey_owner;
ALTER TYPE public.labelorigin OWNER TO huey_owner;
ALTER TYPE public.recommendstatus OWNER TO huey_owner;
ALTER TYPE public.ordinal OWNER TO huey_owner;
ALTER TYPE public.enum_subscription_type OWNER TO huey_owner;
ALTER TYPE public.enum_subscription_provider OWNER TO huey_owner;
ALTER TYPE public.eventoutboxstatus OWNER TO huey_owner;
ALTER TYPE public.eventoutboxpriority OWNER TO huey_owner;
ALTER TYPE public.enum_task_execution_status OWNER TO huey_owner;
ALTER TYPE public.readingability OWNER TO huey_owner;
ALTER TYPE public.doecode OWNER TO huey_owner;

-- Functions are not executable by everyone by default.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC;

-- Explicit grants, table by table. Nothing is granted to PUBLIC.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;

-- reference data: read-only for everyone of ours
GRANT SELECT ON public.countries, public.hues, public.reading_abilities
  TO huey_app, huey_staff_ro, huey_staff_rw;

-- accounts
GRANT SELECT, INSERT, UPDATE, DELETE ON
  public.users, public.readers, public.public_readers, public.students, public.educators,
  public.school_admins, public.wriveted_admins, public.parents, public.supporters,
  public.supporter_reader_association, public.service_accounts,
  public.service_account_school_association
  TO huey_app;
GRANT SELECT ON
  public.users, public.readers, public.public_readers, public.students, public.educators,
  public.school_admins, public.wriveted_admins, public.parents, public.supporters,
  public.supporter_reader_association, public.service_accounts,
  public.service_account_school_association
  TO huey_staff_ro, huey_staff_rw;
-- staff scripts may create admin accounts (get-auth-token -create-admin)
GRANT INSERT, UPDATE ON public.users, public.wriveted_admins TO huey_staff_rw;

-- schools and classes
GRANT SELECT, INSERT, UPDATE, DELETE ON public.schools, public.class_groups TO huey_app;
GRANT SELECT ON public.schools, public.class_groups TO huey_staff_ro;
GRANT SELECT, INSERT, UPDATE ON public.schools, public.class_groups TO huey_staff_rw;

-- catalogue and labels
GRANT SELECT, INSERT, UPDATE, DELETE ON
  public.authors, public.illustrators, public.series, public.works, public.editions,
  public.author_work_association, public.illustrator_edition_association,
  public.series_works_association, public.labelsets, public.labelset_hue_association,
  public.labelset_reading_ability_association
  TO huey_app, huey_staff_rw;
GRANT SELECT ON
  public.authors, public.illustrators, public.series, public.works, public.editions,
  public.author_work_association, public.illustrator_edition_association,
  public.series_works_association, public.labelsets, public.labelset_hue_association,
  public.labelset_reading_ability_association
  TO huey_staff_ro;
GRANT SELECT ON public.work_collection_frequency, public.search_view_v1
  TO huey_app, huey_staff_ro, huey_staff_rw;

-- collections and booklists
GRANT SELECT, INSERT, UPDATE, DELETE ON
  public.collections, public.collection_items, public.collection_item_activity_log,
  public.book_lists, public.book_list_works
  TO huey_app, huey_staff_rw;
GRANT SELECT ON
  public.collections, public.collection_items, public.collection_item_activity_log,
  public.book_lists, public.book_list_works
  TO huey_staff_ro;

-- events: the API records and reads them, and removes them only with a purge
GRANT SELECT, INSERT, DELETE ON public.events TO huey_app;
GRANT SELECT ON public.events TO huey_staff_ro;
GRANT SELECT, INSERT ON public.events TO huey_staff_rw;

-- commerce: read-only here (written by the commerce service)
GRANT SELECT ON public.products, public.subscriptions TO huey_app, huey_staff_ro, huey_staff_rw;

-- sequences of the tables the API and staff scripts insert into
GRANT USAGE ON
  public.schools_id_seq, public.authors_id_seq, public.illustrators_id_seq, public.series_id_seq,
  public.works_id_seq, public.editions_id_seq, public.labelsets_id_seq,
  public.collection_items_id_seq, public.collection_item_activity_log_id_seq
  TO huey_app, huey_staff_rw;

-- Row-level security: enabled and forced on every table (FORCE binds the owner too).
ALTER TABLE public.countries ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.countries FORCE ROW LEVEL SECURITY;
ALTER TABLE public.schools ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.schools FORCE ROW LEVEL SECURITY;
ALTER TABLE public.class_groups ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.class_groups FORCE ROW LEVEL SECURITY;
ALTER TABLE public.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.users FORCE ROW LEVEL SECURITY;
ALTER TABLE public.parents ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.parents FORCE ROW LEVEL SECURITY;
ALTER TABLE public.readers ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.readers FORCE ROW LEVEL SECURITY;
ALTER TABLE public.public_readers ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.public_readers FORCE ROW LEVEL SECURITY;
ALTER TABLE public.students ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.students FORCE ROW LEVEL SECURITY;
ALTER TABLE public.educators ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.educators FORCE ROW LEVEL SECURITY;
ALTER TABLE public.school_admins ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.school_admins FORCE ROW LEVEL SECURITY;
ALTER TABLE public.wriveted_admins ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.wriveted_admins FORCE ROW LEVEL SECURITY;
ALTER TABLE public.supporters ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.supporters FORCE ROW LEVEL SECURITY;
ALTER TABLE public.supporter_reader_association ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.supporter_reader_association FORCE ROW LEVEL SECURITY;
ALTER TABLE public.service_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.service_accounts FORCE ROW LEVEL SECURITY;
ALTER TABLE public.service_account_school_association ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.service_account_school_association FORCE ROW LEVEL SECURITY;
ALTER TABLE public.authors ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.authors FORCE ROW LEVEL SECURITY;
ALTER TABLE public.illustrators ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.illustrators FORCE ROW LEVEL SECURITY;
ALTER TABLE public.series ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.series FORCE ROW LEVEL SECURITY;
ALTER TABLE public.works ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.works FORCE ROW LEVEL SECURITY;
ALTER TABLE public.editions ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.editions FORCE ROW LEVEL SECURITY;
ALTER TABLE public.author_work_association ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.author_work_association FORCE ROW LEVEL SECURITY;
ALTER TABLE public.illustrator_edition_association ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.illustrator_edition_association FORCE ROW LEVEL SECURITY;
ALTER TABLE public.series_works_association ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.series_works_association FORCE ROW LEVEL SECURITY;
ALTER TABLE public.hues ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.hues FORCE ROW LEVEL SECURITY;
ALTER TABLE public.reading_abilities ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.reading_abilities FORCE ROW LEVEL SECURITY;
ALTER TABLE public.labelsets ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.labelsets FORCE ROW LEVEL SECURITY;
ALTER TABLE public.labelset_hue_association ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.labelset_hue_association FORCE ROW LEVEL SECURITY;
ALTER TABLE public.labelset_reading_ability_association ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.labelset_reading_ability_association FORCE ROW LEVEL SECURITY;
ALTER TABLE public.collections ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.collections FORCE ROW LEVEL SECURITY;
ALTER TABLE public.collection_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.collection_items FORCE ROW LEVEL SECURITY;
ALTER TABLE public.collection_item_activity_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.collection_item_activity_log FORCE ROW LEVEL SECURITY;
ALTER TABLE public.book_lists ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.book_lists FORCE ROW LEVEL SECURITY;
ALTER TABLE public.book_list_works ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.book_list_works FORCE ROW LEVEL SECURITY;
ALTER TABLE public.events ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.events FORCE ROW LEVEL SECURITY;
ALTER TABLE public.products ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.products FORCE ROW LEVEL SECURITY;
ALTER TABLE public.subscriptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.subscriptions FORCE ROW LEVEL SECURITY;
ALTER TABLE public.event_outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.event_outbox FORCE ROW LEVEL SECURITY;
ALTER TABLE public.task_idempotency_records ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.task_idempotency_records FORCE ROW LEVEL SECURITY;

-- Reference tables are public knowledge: every role of ours reads every row.
CREATE POLICY countries_select_all ON public.countries
  FOR SELECT TO huey_app, huey_staff_ro, huey_staff_rw USING (true);
CREATE POLICY hues_select_all ON public.hues
  FOR SELECT TO huey_app, huey_staff_ro, huey_staff_rw USING (true);
CREATE POLICY reading_abilities_select_all ON public.reading_abilities
  FOR SELECT TO huey_app, huey_staff_ro, huey_staff_rw USING (true);

-- The latest applied migration, for GET /v1/version. SECURITY DEFINER so the
-- API reads one string and nothing else of the revisions table.
GRANT USAGE ON SCHEMA atlas_schema_revisions TO huey_owner;
GRANT SELECT ON atlas_schema_revisions.atlas_schema_revisions TO huey_owner;
CREATE FUNCTION huey.database_revision() RETURNS text
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$
  SELECT max(version)::text FROM atlas_schema_revisions.atlas_schema_revisions
  WHERE version <> '.atlas_cloud_identifier'
$$;
ALTER FUNCTION huey.database_revision() OWNER TO huey_owner;
REVOKE EXECUTE ON FUNCTION huey.database_revision() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION huey.database_revision() TO huey_app, huey_staff_ro, huey_staff_rw;
