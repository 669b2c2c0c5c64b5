-- Issue 16 cross-check: row security lets a school's managers (its school
-- admins and linked LMS/school accounts, schools_update_managers) update its
-- row, and cannot tell columns apart, so school.rego entry 2b was the only
-- guard on a school's status (F4: a school starts inactive; only admins
-- activate or deactivate it). This trigger is the second guard: under the API
-- role, only an admin's claims change `state`. Other roles (the migrator, the
-- staff job doors, a coexisting original login) are not the API and are
-- bound by their own grants.
CREATE FUNCTION huey.guard_school_state() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF current_user = 'huey_app' AND NEW.state IS DISTINCT FROM OLD.state AND NOT huey.is_admin() THEN
    RAISE EXCEPTION 'only an admin may change a school''s state' USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END
$$;
ALTER FUNCTION huey.guard_school_state() OWNER TO huey_owner;
REVOKE EXECUTE ON FUNCTION huey.guard_school_state() FROM PUBLIC;
CREATE TRIGGER guard_school_state BEFORE UPDATE OF state ON public.schools
  FOR EACH ROW EXECUTE FUNCTION huey.guard_school_state();
