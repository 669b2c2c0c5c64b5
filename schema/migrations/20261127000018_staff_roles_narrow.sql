-- Issue 12 (also, and the first step of issue 17): the staff roles read
-- every user's e-mail, every event (with e-mail payloads), every task
-- payload and every service account. No staff script needs any of that:
-- get-auth-token needs one account's id and whether it is active, found by
-- e-mail or id. That is now a door each, and the staff roles lose their
-- reads of accounts, events, task payloads, reading activity and
-- subscriptions (schema/README.md lists what each role reaches; a test in
-- schema/staff_roles_test.go proves the rest is out of reach).

-- 1. The doors. Each returns one account's id and active flag, nothing else.
CREATE FUNCTION huey.staff_find_user(p_email text)
  RETURNS TABLE (id uuid, is_active boolean, user_type text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
  SELECT u.id, u.is_active, u.type::text FROM public.users u WHERE u.email = p_email
$$;
CREATE FUNCTION huey.staff_find_service_account(p_id uuid)
  RETURNS TABLE (id uuid, is_active boolean)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
  SELECT s.id, s.is_active FROM public.service_accounts s WHERE s.id = p_id
$$;
GRANT CREATE ON SCHEMA huey TO huey_definer;
ALTER FUNCTION huey.staff_find_user(text) OWNER TO huey_definer;
ALTER FUNCTION huey.staff_find_service_account(uuid) OWNER TO huey_definer;
REVOKE CREATE ON SCHEMA huey FROM huey_definer;
REVOKE EXECUTE ON FUNCTION huey.staff_find_user(text), huey.staff_find_service_account(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION huey.staff_find_user(text), huey.staff_find_service_account(uuid) TO huey_staff_ro, huey_staff_rw;

-- 2. What the staff roles no longer read or change.
DROP POLICY users_select_staff ON public.users;
DROP POLICY users_update_staff ON public.users;
DROP POLICY wriveted_admins_select_staff ON public.wriveted_admins;
DROP POLICY service_accounts_select_staff ON public.service_accounts;
DROP POLICY events_select_staff ON public.events;
DROP POLICY task_queue_select_staff ON public.task_queue;
REVOKE SELECT ON public.users, public.readers, public.public_readers, public.students, public.educators,
  public.school_admins, public.wriveted_admins, public.parents, public.supporters,
  public.supporter_reader_association, public.service_accounts, public.service_account_school_association,
  public.subscriptions, public.events, public.task_queue, public.collection_item_activity_log
  FROM huey_staff_ro, huey_staff_rw;
REVOKE UPDATE ON public.users, public.wriveted_admins FROM huey_staff_rw;
REVOKE ALL ON public.collection_item_activity_log FROM huey_staff_rw;
