-- Account changes reach every API instance at once: a committed change to any
-- row that huey.authenticate() derives an account's principals from sends
-- NOTIFY huey_account_changed with the account's id as payload, and each API
-- process drops that account from its principal cache (server/internal/api,
-- AccountCache.Listen). That is what lets PRINCIPAL_CACHE_TTL be long.
--
-- The tables are those huey.authenticate() reads (20261127000003_rls_spine.sql):
-- users, the user subtypes (readers, public_readers, students, educators,
-- school_admins, wriveted_admins, parents, supporters), service_accounts and
-- service_account_school_association. readers.parent_id also changes the
-- parent's principals (parent:<child>), so a reader row notifies its old and
-- new parent too. supporter_reader_association is not among them: principals
-- do not include supporter links (feedback reads them per request through
-- huey.event_attrs). A column or table added to huey.authenticate() needs its
-- trigger here.
--
-- Every INSERT, UPDATE and DELETE notifies (not only changes of the columns
-- read), so a new column read by authenticate() cannot be missed; TRUNCATE
-- notifies '*' (every account). Postgres delivers notifications at commit only
-- (none for a rolled-back change) and folds duplicates within a transaction.
--
-- The trigger function reads no table and needs no privilege (pg_notify needs
-- none), so it runs as the invoker (SECURITY INVOKER) with a pinned search_path.
-- The payload is only an account id.

CREATE FUNCTION huey.notify_account_changed() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_col text;
  v_old jsonb;
  v_new jsonb;
BEGIN
  IF TG_LEVEL = 'STATEMENT' THEN -- TRUNCATE: every account may have changed
    PERFORM pg_catalog.pg_notify('huey_account_changed', '*');
    RETURN NULL;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    v_old := pg_catalog.to_jsonb(OLD);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    v_new := pg_catalog.to_jsonb(NEW);
  END IF;
  -- TG_ARGV names the columns holding account ids.
  FOREACH v_col IN ARRAY TG_ARGV LOOP
    IF v_old ->> v_col IS NOT NULL THEN
      PERFORM pg_catalog.pg_notify('huey_account_changed', v_old ->> v_col);
    END IF;
    IF v_new ->> v_col IS NOT NULL THEN
      PERFORM pg_catalog.pg_notify('huey_account_changed', v_new ->> v_col);
    END IF;
  END LOOP;
  RETURN NULL;
END
$$;
ALTER FUNCTION huey.notify_account_changed() OWNER TO huey_owner;
REVOKE EXECUTE ON FUNCTION huey.notify_account_changed() FROM PUBLIC;

-- One row trigger (arguments: the columns holding account ids) and one TRUNCATE
-- trigger per table.
CREATE TRIGGER notify_account_changed AFTER INSERT OR UPDATE OR DELETE ON public.users
  FOR EACH ROW EXECUTE FUNCTION huey.notify_account_changed(id);
CREATE TRIGGER notify_account_truncated AFTER TRUNCATE ON public.users
  FOR EACH STATEMENT EXECUTE FUNCTION huey.notify_account_changed();
CREATE TRIGGER notify_account_changed AFTER INSERT OR UPDATE OR DELETE ON public.readers
  FOR EACH ROW EXECUTE FUNCTION huey.notify_account_changed(id, parent_id);
CREATE TRIGGER notify_account_truncated AFTER TRUNCATE ON public.readers
  FOR EACH STATEMENT EXECUTE FUNCTION huey.notify_account_changed();
CREATE TRIGGER notify_account_changed AFTER INSERT OR UPDATE OR DELETE ON public.public_readers
  FOR EACH ROW EXECUTE FUNCTION huey.notify_account_changed(id);
CREATE TRIGGER notify_account_truncated AFTER TRUNCATE ON public.public_readers
  FOR EACH STATEMENT EXECUTE FUNCTION huey.notify_account_changed();
CREATE TRIGGER notify_account_changed AFTER INSERT OR UPDATE OR DELETE ON public.students
  FOR EACH ROW EXECUTE FUNCTION huey.notify_account_changed(id);
CREATE TRIGGER notify_account_truncated AFTER TRUNCATE ON public.students
  FOR EACH STATEMENT EXECUTE FUNCTION huey.notify_account_changed();
CREATE TRIGGER notify_account_changed AFTER INSERT OR UPDATE OR DELETE ON public.educators
  FOR EACH ROW EXECUTE FUNCTION huey.notify_account_changed(id);
CREATE TRIGGER notify_account_truncated AFTER TRUNCATE ON public.educators
  FOR EACH STATEMENT EXECUTE FUNCTION huey.notify_account_changed();
CREATE TRIGGER notify_account_changed AFTER INSERT OR UPDATE OR DELETE ON public.school_admins
  FOR EACH ROW EXECUTE FUNCTION huey.notify_account_changed(id);
CREATE TRIGGER notify_account_truncated AFTER TRUNCATE ON public.school_admins
  FOR EACH STATEMENT EXECUTE FUNCTION huey.notify_account_changed();
CREATE TRIGGER notify_account_changed AFTER INSERT OR UPDATE OR DELETE ON public.wriveted_admins
  FOR EACH ROW EXECUTE FUNCTION huey.notify_account_changed(id);
CREATE TRIGGER notify_account_truncated AFTER TRUNCATE ON public.wriveted_admins
  FOR EACH STATEMENT EXECUTE FUNCTION huey.notify_account_changed();
CREATE TRIGGER notify_account_changed AFTER INSERT OR UPDATE OR DELETE ON public.parents
  FOR EACH ROW EXECUTE FUNCTION huey.notify_account_changed(id);
CREATE TRIGGER notify_account_truncated AFTER TRUNCATE ON public.parents
  FOR EACH STATEMENT EXECUTE FUNCTION huey.notify_account_changed();
CREATE TRIGGER notify_account_changed AFTER INSERT OR UPDATE OR DELETE ON public.supporters
  FOR EACH ROW EXECUTE FUNCTION huey.notify_account_changed(id);
CREATE TRIGGER notify_account_truncated AFTER TRUNCATE ON public.supporters
  FOR EACH STATEMENT EXECUTE FUNCTION huey.notify_account_changed();
CREATE TRIGGER notify_account_changed AFTER INSERT OR UPDATE OR DELETE ON public.service_accounts
  FOR EACH ROW EXECUTE FUNCTION huey.notify_account_changed(id);
CREATE TRIGGER notify_account_truncated AFTER TRUNCATE ON public.service_accounts
  FOR EACH STATEMENT EXECUTE FUNCTION huey.notify_account_changed();
CREATE TRIGGER notify_account_changed AFTER INSERT OR UPDATE OR DELETE ON public.service_account_school_association
  FOR EACH ROW EXECUTE FUNCTION huey.notify_account_changed(service_account_id);
CREATE TRIGGER notify_account_truncated AFTER TRUNCATE ON public.service_account_school_association
  FOR EACH STATEMENT EXECUTE FUNCTION huey.notify_account_changed();
