-- GET /v1/events?service_account_id= answers 404 only for an unknown account
-- (api.md §2.13: no permission check on that account; the events themselves
-- are still filtered by row security). Non-admins cannot see service
-- accounts, so existence is answered by a door that reveals nothing else.

CREATE FUNCTION huey.service_account_exists(p_id uuid) RETURNS boolean
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN huey.is_authenticated() AND EXISTS (SELECT FROM public.service_accounts sa WHERE sa.id = p_id);
END
$$;

GRANT CREATE ON SCHEMA huey TO huey_definer;
ALTER FUNCTION huey.service_account_exists(uuid) OWNER TO huey_definer;
REVOKE CREATE ON SCHEMA huey FROM huey_definer;
REVOKE EXECUTE ON FUNCTION huey.service_account_exists(uuid) FROM PUBLIC, huey_staff_ro, huey_staff_rw, huey_definer;
GRANT EXECUTE ON FUNCTION huey.service_account_exists(uuid) TO huey_app;
