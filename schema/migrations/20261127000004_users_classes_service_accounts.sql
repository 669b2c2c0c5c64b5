-- Accounts, class groups and service accounts (api.md §2.3, §2.4, §2.6), and the
-- durable task queue the API enqueues background work into.
--
-- Who may change which rows of accounts (access.md §6.1 with F1, F5, F7 fixed):
--   * admins: everything (the <table>_<command>_admin policies of the spine);
--   * every account: itself; a parent: its children;
--   * a school admin: the students, educators and school admins of its school
--     (read and write); an educator: reads the staff and students of its school;
--   * changes of `type`, `is_active`, a student's school or class and a staff
--     member's school are refused by a trigger unless the caller is an admin or a
--     school admin of the account's school (and, when moving it, of the new one).
-- Class groups (access.md §6.3 with F5 fixed: school ids are integers in principals):
--   its school's staff read and rename them; its students read them; its school
--   admins create and delete them.

-- ---------------------------------------------------------------------------
-- Helpers, SECURITY INVOKER and inlinable (see the spine).

-- The integer ids of the schools whose staff the caller is (educator:<id>, which
-- school admins hold too).
CREATE FUNCTION huey.staff_school_ids() RETURNS integer[]
  LANGUAGE sql STABLE
AS $$ SELECT huey.principal_ids('educator:') $$;

-- The schools the caller administers (schooladmin:<id>).
CREATE FUNCTION huey.admin_school_ids() RETURNS integer[]
  LANGUAGE sql STABLE
AS $$ SELECT huey.principal_ids('schooladmin:') $$;

-- The caller's children (parent accounts), from the claims.
CREATE FUNCTION huey.child_ids() RETURNS uuid[]
  LANGUAGE sql STABLE
AS $$
  SELECT CASE WHEN huey.is_authenticated() AND pg_catalog.jsonb_typeof(huey.claims() -> 'child_ids') = 'array'
    THEN ARRAY(SELECT pg_catalog.jsonb_array_elements_text(huey.claims() -> 'child_ids')::uuid)
    ELSE '{}'::uuid[] END
$$;

ALTER FUNCTION huey.staff_school_ids() OWNER TO huey_owner;
ALTER FUNCTION huey.admin_school_ids() OWNER TO huey_owner;
ALTER FUNCTION huey.child_ids() OWNER TO huey_owner;
REVOKE EXECUTE ON FUNCTION huey.staff_school_ids(), huey.admin_school_ids(), huey.child_ids() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION huey.staff_school_ids(), huey.admin_school_ids(), huey.child_ids()
  TO huey_app, huey_staff_ro, huey_staff_rw, huey_definer;

-- ---------------------------------------------------------------------------
-- The school an account belongs to, for the policies and the F1 guard: a
-- SECURITY DEFINER look-up so policies on one account table do not recurse
-- through the row security of another.
CREATE FUNCTION huey.account_school_id(p_id uuid) RETURNS integer
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN coalesce((SELECT st.school_id FROM public.students st WHERE st.id = p_id),
                  (SELECT e.school_id FROM public.educators e WHERE e.id = p_id));
END
$$;
GRANT CREATE ON SCHEMA huey TO huey_definer;
ALTER FUNCTION huey.account_school_id(uuid) OWNER TO huey_definer;
REVOKE CREATE ON SCHEMA huey FROM huey_definer;
REVOKE EXECUTE ON FUNCTION huey.account_school_id(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION huey.account_school_id(uuid) TO huey_app;

-- ---------------------------------------------------------------------------
-- F1 in the database: privileged columns change only for admins, or for a
-- school admin within its school (both the account's school and, when it moves,
-- the new one). The API's policy layer decides the same first; this guard
-- makes the rule hold for any statement huey_app runs.

CREATE FUNCTION huey.guard_privileged_account_change() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_old_school integer;
  v_new_school integer;
BEGIN
  IF current_user <> 'huey_app' OR huey.is_admin() THEN
    RETURN NEW;
  END IF;
  IF TG_TABLE_NAME = 'users' THEN
    IF NEW.type IS DISTINCT FROM OLD.type OR NEW.is_active IS DISTINCT FROM OLD.is_active THEN
      v_old_school := huey.account_school_id(OLD.id);
      IF v_old_school IS NULL OR NOT v_old_school = ANY (huey.admin_school_ids()) THEN
        RAISE EXCEPTION 'only an admin or the school''s school admin may change an account''s type or active state'
          USING ERRCODE = '42501';
      END IF;
    END IF;
  ELSIF TG_TABLE_NAME = 'students' THEN
    IF NEW.school_id IS DISTINCT FROM OLD.school_id OR NEW.class_group_id IS DISTINCT FROM OLD.class_group_id THEN
      IF NOT OLD.school_id = ANY (huey.admin_school_ids()) OR NOT NEW.school_id = ANY (huey.admin_school_ids()) THEN
        RAISE EXCEPTION 'only an admin or the school''s school admin may move a student'
          USING ERRCODE = '42501';
      END IF;
    END IF;
  ELSIF TG_TABLE_NAME = 'educators' THEN
    IF NEW.school_id IS DISTINCT FROM OLD.school_id THEN
      IF NOT OLD.school_id = ANY (huey.admin_school_ids()) OR NOT NEW.school_id = ANY (huey.admin_school_ids()) THEN
        RAISE EXCEPTION 'only an admin or the school''s school admin may move an educator'
          USING ERRCODE = '42501';
      END IF;
    END IF;
  END IF;
  RETURN NEW;
END
$$;
ALTER FUNCTION huey.guard_privileged_account_change() OWNER TO huey_owner;
CREATE TRIGGER guard_privileged_account_change BEFORE UPDATE ON public.users
  FOR EACH ROW EXECUTE FUNCTION huey.guard_privileged_account_change();
CREATE TRIGGER guard_privileged_account_change BEFORE UPDATE ON public.students
  FOR EACH ROW EXECUTE FUNCTION huey.guard_privileged_account_change();
CREATE TRIGGER guard_privileged_account_change BEFORE UPDATE ON public.educators
  FOR EACH ROW EXECUTE FUNCTION huey.guard_privileged_account_change();

-- ---------------------------------------------------------------------------
-- Accounts: reads.

-- Educators (and school admins) read the staff of their school (access.md §6.1).
CREATE POLICY users_select_school_colleagues ON public.users FOR SELECT TO huey_app
  USING (id IN (SELECT e.id FROM public.educators e WHERE e.school_id = ANY ((SELECT huey.staff_school_ids())::integer[])));
CREATE POLICY educators_select_school_colleagues ON public.educators FOR SELECT TO huey_app
  USING (school_id = ANY ((SELECT huey.staff_school_ids())::integer[]));
-- F7: educators and school admins read the students of their school.
CREATE POLICY users_select_school_students ON public.users FOR SELECT TO huey_app
  USING (id IN (SELECT st.id FROM public.students st WHERE st.school_id = ANY ((SELECT huey.staff_school_ids())::integer[])));
CREATE POLICY students_select_school_staff ON public.students FOR SELECT TO huey_app
  USING (school_id = ANY ((SELECT huey.staff_school_ids())::integer[]));
CREATE POLICY readers_select_school_students ON public.readers FOR SELECT TO huey_app
  USING (id IN (SELECT st.id FROM public.students st WHERE st.school_id = ANY ((SELECT huey.staff_school_ids())::integer[])));
-- A parent reads its children's type rows.
CREATE POLICY students_select_children ON public.students FOR SELECT TO huey_app
  USING (id = ANY ((SELECT huey.child_ids())::uuid[]));
CREATE POLICY public_readers_select_children ON public.public_readers FOR SELECT TO huey_app
  USING (id = ANY ((SELECT huey.child_ids())::uuid[]));

-- ---------------------------------------------------------------------------
-- Accounts: writes (admins already may do anything).

-- A parent updates its children; a school admin the accounts of its school.
CREATE POLICY users_update_children ON public.users FOR UPDATE TO huey_app
  USING (id = ANY ((SELECT huey.child_ids())::uuid[])) WITH CHECK (id = ANY ((SELECT huey.child_ids())::uuid[]));
CREATE POLICY users_update_school_accounts ON public.users FOR UPDATE TO huey_app
  USING (huey.account_school_id(id) = ANY ((SELECT huey.admin_school_ids())::integer[]))
  WITH CHECK (true);
CREATE POLICY readers_update_self ON public.readers FOR UPDATE TO huey_app
  USING (id = (SELECT huey.user_id())) WITH CHECK (id = (SELECT huey.user_id()));
CREATE POLICY readers_update_children ON public.readers FOR UPDATE TO huey_app
  USING (id = ANY ((SELECT huey.child_ids())::uuid[])) WITH CHECK (id = ANY ((SELECT huey.child_ids())::uuid[]));
CREATE POLICY readers_update_school_students ON public.readers FOR UPDATE TO huey_app
  USING (huey.account_school_id(id) = ANY ((SELECT huey.admin_school_ids())::integer[])) WITH CHECK (true);
CREATE POLICY students_update_self ON public.students FOR UPDATE TO huey_app
  USING (id = (SELECT huey.user_id())) WITH CHECK (id = (SELECT huey.user_id()));
CREATE POLICY students_update_school ON public.students FOR UPDATE TO huey_app
  USING (school_id = ANY ((SELECT huey.admin_school_ids())::integer[]))
  WITH CHECK (school_id = ANY ((SELECT huey.admin_school_ids())::integer[]));
CREATE POLICY educators_update_self ON public.educators FOR UPDATE TO huey_app
  USING (id = (SELECT huey.user_id())) WITH CHECK (id = (SELECT huey.user_id()));
CREATE POLICY educators_update_school ON public.educators FOR UPDATE TO huey_app
  USING (school_id = ANY ((SELECT huey.admin_school_ids())::integer[]))
  WITH CHECK (school_id = ANY ((SELECT huey.admin_school_ids())::integer[]));
CREATE POLICY school_admins_update_self ON public.school_admins FOR UPDATE TO huey_app
  USING (id = (SELECT huey.user_id())) WITH CHECK (id = (SELECT huey.user_id()));
CREATE POLICY public_readers_update_self ON public.public_readers FOR UPDATE TO huey_app
  USING (id = (SELECT huey.user_id())) WITH CHECK (id = (SELECT huey.user_id()));
CREATE POLICY parents_update_self ON public.parents FOR UPDATE TO huey_app
  USING (id = (SELECT huey.user_id())) WITH CHECK (id = (SELECT huey.user_id()));
CREATE POLICY supporters_update_self ON public.supporters FOR UPDATE TO huey_app
  USING (id = (SELECT huey.user_id())) WITH CHECK (id = (SELECT huey.user_id()));
CREATE POLICY wriveted_admins_update_self ON public.wriveted_admins FOR UPDATE TO huey_app
  USING (id = (SELECT huey.user_id())) WITH CHECK (id = (SELECT huey.user_id()));

-- F1: a school admin may change the type of an account of its school (between
-- student, educator and school admin, within the school): the type rows are
-- inserted and removed within the school; the guard trigger checks the rest.
CREATE POLICY readers_insert_school_admins ON public.readers FOR INSERT TO huey_app
  WITH CHECK (huey.account_school_id(id) = ANY ((SELECT huey.admin_school_ids())::integer[]));
CREATE POLICY students_insert_school_admins ON public.students FOR INSERT TO huey_app
  WITH CHECK (school_id = ANY ((SELECT huey.admin_school_ids())::integer[]));
CREATE POLICY educators_insert_school_admins ON public.educators FOR INSERT TO huey_app
  WITH CHECK (school_id = ANY ((SELECT huey.admin_school_ids())::integer[]));
CREATE POLICY school_admins_insert_school_admins ON public.school_admins FOR INSERT TO huey_app
  WITH CHECK (huey.account_school_id(id) = ANY ((SELECT huey.admin_school_ids())::integer[]));
CREATE POLICY readers_delete_school_admins ON public.readers FOR DELETE TO huey_app
  USING (huey.account_school_id(id) = ANY ((SELECT huey.admin_school_ids())::integer[]));
CREATE POLICY educators_delete_school_admins ON public.educators FOR DELETE TO huey_app
  USING (school_id = ANY ((SELECT huey.admin_school_ids())::integer[]));
CREATE POLICY school_admins_delete_school_admins ON public.school_admins FOR DELETE TO huey_app
  USING (huey.account_school_id(id) = ANY ((SELECT huey.admin_school_ids())::integer[]));
CREATE POLICY school_admins_select_school_admins ON public.school_admins FOR SELECT TO huey_app
  USING (huey.account_school_id(id) = ANY ((SELECT huey.staff_school_ids())::integer[]));

-- ---------------------------------------------------------------------------
-- Class groups (school_id is the school's wriveted_identifier).

CREATE FUNCTION huey.school_uuids(p_ids integer[]) RETURNS uuid[]
  LANGUAGE sql STABLE
AS $$ SELECT ARRAY(SELECT s.wriveted_identifier FROM public.schools s WHERE s.id = ANY (p_ids)) $$;
ALTER FUNCTION huey.school_uuids(integer[]) OWNER TO huey_owner;
REVOKE EXECUTE ON FUNCTION huey.school_uuids(integer[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION huey.school_uuids(integer[]) TO huey_app;

CREATE POLICY class_groups_select_school ON public.class_groups FOR SELECT TO huey_app
  USING (school_id = ANY ((SELECT huey.school_uuids(huey.staff_school_ids() || huey.principal_ids('student:')))::uuid[]));
CREATE POLICY class_groups_update_school_staff ON public.class_groups FOR UPDATE TO huey_app
  USING (school_id = ANY ((SELECT huey.school_uuids(huey.staff_school_ids()))::uuid[]))
  WITH CHECK (school_id = ANY ((SELECT huey.school_uuids(huey.staff_school_ids()))::uuid[]));
CREATE POLICY class_groups_insert_school_admins ON public.class_groups FOR INSERT TO huey_app
  WITH CHECK (school_id = ANY ((SELECT huey.school_uuids(huey.admin_school_ids()))::uuid[]));
CREATE POLICY class_groups_delete_school_admins ON public.class_groups FOR DELETE TO huey_app
  USING (school_id = ANY ((SELECT huey.school_uuids(huey.admin_school_ids()))::uuid[]));
-- Policy attributes of a class: its school (integer id and uuid), so an
-- existing class the caller may not read is refused (403), not hidden (404).
CREATE FUNCTION huey.class_attrs(p_id uuid)
RETURNS TABLE (school_id integer, school_wid uuid)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT s.id, g.school_id FROM public.class_groups g
  LEFT JOIN public.schools s ON s.wriveted_identifier = g.school_id
  WHERE g.id = p_id;
END
$$;

-- A fresh, unused class joining code (domain.md §5.3: six characters of
-- 2346789BCDFGHJKMPQRTVWXY, re-drawn until unused, at most 1000 draws). It
-- sees every class, and reveals nothing but the new code: a "which codes are in
-- use" look-up would let anyone probe for valid codes (F12).
CREATE FUNCTION huey.new_join_code() RETURNS text
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_alphabet constant text := '2346789BCDFGHJKMPQRTVWXY';
  v_bytes bytea;
  v_byte integer;
  v_code text;
BEGIN
  FOR attempt IN 1..1000 LOOP
    v_code := '';
    WHILE pg_catalog.length(v_code) < 6 LOOP
      v_bytes := pg_catalog.uuid_send(pg_catalog.gen_random_uuid());
      FOR i IN 0..15 LOOP
        CONTINUE WHEN i IN (6, 8); -- the uuid's version and variant bytes are not random
        v_byte := pg_catalog.get_byte(v_bytes, i);
        IF v_byte < 240 AND pg_catalog.length(v_code) < 6 THEN -- 240 = 10 × 24: uniform
          v_code := v_code || pg_catalog.substr(v_alphabet, 1 + v_byte % 24, 1);
        END IF;
      END LOOP;
    END LOOP;
    IF NOT EXISTS (SELECT FROM public.class_groups g WHERE g.join_code = v_code) THEN
      RETURN v_code;
    END IF;
  END LOOP;
  RAISE EXCEPTION 'no unused class joining code after 1000 attempts';
END
$$;
GRANT CREATE ON SCHEMA huey TO huey_definer;
ALTER FUNCTION huey.class_attrs(uuid) OWNER TO huey_definer;
ALTER FUNCTION huey.new_join_code() OWNER TO huey_definer;
REVOKE CREATE ON SCHEMA huey FROM huey_definer;
REVOKE EXECUTE ON FUNCTION huey.class_attrs(uuid), huey.new_join_code() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION huey.class_attrs(uuid), huey.new_join_code() TO huey_app;

-- Deleting a class demotes its students (the API does it in the same transaction).
CREATE POLICY students_delete_school_admins ON public.students FOR DELETE TO huey_app
  USING (school_id = ANY ((SELECT huey.admin_school_ids())::integer[]));
CREATE POLICY public_readers_insert_school_admins ON public.public_readers FOR INSERT TO huey_app
  WITH CHECK (huey.account_school_id(id) = ANY ((SELECT huey.admin_school_ids())::integer[]));

-- ---------------------------------------------------------------------------
-- The durable task queue (ours; the original's event_outbox belongs to its CMS).
-- A task is written in the transaction of the change that causes it, so it
-- exists exactly when the change commits. The task server's dispatcher (a later
-- migration) delivers it; until then tasks wait here, visible to admins.

CREATE TABLE public.task_queue (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  kind varchar(100) NOT NULL,
  payload jsonb NOT NULL DEFAULT '{}'::jsonb,
  status varchar(20) NOT NULL DEFAULT 'pending',
  attempts integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL DEFAULT 10,
  run_after timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  idempotency_key varchar(200),
  last_error text,
  enqueued_by_user_id uuid,
  enqueued_by_service_account_id uuid,
  created_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  updated_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  completed_at timestamp,
  CONSTRAINT task_queue_pkey PRIMARY KEY (id),
  CONSTRAINT ck_task_queue_status CHECK (status IN ('pending', 'running', 'done', 'failed', 'dead'))
);
CREATE UNIQUE INDEX uq_task_queue_idempotency_key ON public.task_queue (idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX ix_task_queue_pending ON public.task_queue (run_after) WHERE status IN ('pending', 'failed');
ALTER TABLE public.task_queue OWNER TO huey_owner;
ALTER TABLE public.task_queue ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.task_queue FORCE ROW LEVEL SECURITY;
REVOKE ALL ON public.task_queue FROM PUBLIC;
GRANT SELECT, UPDATE, DELETE ON public.task_queue TO huey_app;
GRANT SELECT ON public.task_queue TO huey_staff_ro, huey_staff_rw;
CREATE POLICY task_queue_select_admin ON public.task_queue FOR SELECT TO huey_app USING ((SELECT huey.is_admin()));
CREATE POLICY task_queue_update_admin ON public.task_queue FOR UPDATE TO huey_app
  USING ((SELECT huey.is_admin())) WITH CHECK ((SELECT huey.is_admin()));
CREATE POLICY task_queue_delete_admin ON public.task_queue FOR DELETE TO huey_app USING ((SELECT huey.is_admin()));
CREATE POLICY task_queue_select_staff ON public.task_queue FOR SELECT TO huey_staff_ro, huey_staff_rw USING (true);

-- Enqueueing goes through one door: any signed-in request may enqueue, the
-- enqueuer is taken from the claims (never from the caller), and a repeated
-- idempotency key is a no-op even when another account enqueued it first.
GRANT SELECT, INSERT ON public.task_queue TO huey_definer;
CREATE POLICY task_queue_select_definer ON public.task_queue FOR SELECT TO huey_definer USING (true);
CREATE POLICY task_queue_insert_definer ON public.task_queue FOR INSERT TO huey_definer WITH CHECK (true);
CREATE FUNCTION huey.enqueue_task(p_kind text, p_payload jsonb, p_idempotency_key text) RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF NOT huey.is_authenticated() THEN
    RAISE EXCEPTION 'only a signed-in request may enqueue work' USING ERRCODE = '42501';
  END IF;
  INSERT INTO public.task_queue (kind, payload, idempotency_key, enqueued_by_user_id, enqueued_by_service_account_id)
  VALUES (p_kind, coalesce(p_payload, '{}'::jsonb), p_idempotency_key, huey.user_id(), huey.service_account_id())
  ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING;
END
$$;
GRANT CREATE ON SCHEMA huey TO huey_definer;
ALTER FUNCTION huey.enqueue_task(text, jsonb, text) OWNER TO huey_definer;
REVOKE CREATE ON SCHEMA huey FROM huey_definer;
REVOKE EXECUTE ON FUNCTION huey.enqueue_task(text, jsonb, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION huey.enqueue_task(text, jsonb, text) TO huey_app;
