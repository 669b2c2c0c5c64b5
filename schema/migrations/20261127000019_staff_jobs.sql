-- Issue 17: one database role per staff job, each reaching only what its job
-- needs, and an audit event for every staff write.
--
-- The job roles are NOLOGIN group roles, granted to the staff logins the way
-- huey_app is granted to huey_api: a script logs in as huey_staff_rw (or
-- huey_staff_ro) and its transaction runs as its job role
-- (set_config('role', <job role>, true), schema/db Claims.Role). The staff
-- logins become NOINHERIT, so logging in gives none of a job role's reach:
-- only the transaction that takes the role has it.
--
--   huey_job_onboard_school      onboard-school      huey.staff_onboard_school, huey.staff_record_event
--   huey_job_import_collection   import-collection   its one school's collection and items (claims
--                                                    principal staff-school:<uuid>), editions (read),
--                                                    huey.ensure_bare_editions, huey.staff_queue_hydration,
--                                                    huey.school_attrs, huey.staff_record_event
--   huey_job_export_collection   export-collection   huey.staff_collection_export
--   huey_job_deactivate_account  deactivate-account  huey.staff_deactivate_account, huey.staff_record_event
--
-- The doors are SECURITY DEFINER functions owned by huey_definer (search_path
-- pinned) and refuse any caller whose claims are not kind "staff"; the
-- definer's new write policies (`…_definer_staff`) also hold only under staff
-- claims, so no API door gains a write from this file.

DO $$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['huey_job_onboard_school', 'huey_job_import_collection',
                           'huey_job_export_collection', 'huey_job_deactivate_account'] LOOP
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB', r);
    END IF;
  END LOOP;
END
$$;
ALTER ROLE huey_staff_ro NOINHERIT;
ALTER ROLE huey_staff_rw NOINHERIT;
GRANT huey_job_onboard_school, huey_job_import_collection, huey_job_deactivate_account,
  huey_job_export_collection TO huey_staff_rw;
GRANT huey_job_export_collection TO huey_staff_ro;
GRANT USAGE ON SCHEMA huey, public TO huey_job_onboard_school, huey_job_import_collection,
  huey_job_export_collection, huey_job_deactivate_account;

-- ---------------------------------------------------------------------------
-- Helpers. huey.staff_school() is the school a staff transaction is scoped
-- to: the uuid of its `staff-school:<uuid>` principal, NULL otherwise.
CREATE FUNCTION huey.staff_school() RETURNS uuid
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE WHEN huey.kind() = 'staff' AND pg_catalog.jsonb_typeof(huey.claims() -> 'principals') = 'array' THEN
    (SELECT pg_catalog.substr(p, 14)::uuid FROM pg_catalog.jsonb_array_elements_text(huey.claims() -> 'principals') p
     WHERE pg_catalog.starts_with(p, 'staff-school:')
       AND pg_catalog.substr(p, 14) ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
     LIMIT 1) END
$$;
ALTER FUNCTION huey.staff_school() OWNER TO huey_owner;
REVOKE EXECUTE ON FUNCTION huey.staff_school() FROM PUBLIC;

-- Bare editions for unknown ISBNs: the LMS batch path's door, now also for a
-- staff import (claims kind "staff"). Same body otherwise. (Replacing runs
-- the validator, which needs EXECUTE: the owner has it for this statement only.)
GRANT EXECUTE ON FUNCTION huey.ensure_bare_editions(text[]) TO huey_definer;
CREATE OR REPLACE FUNCTION huey.ensure_bare_editions(p_isbns text[]) RETURNS integer
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_n integer;
BEGIN
  IF NOT (huey.is_authenticated() OR huey.kind() = 'staff') THEN
    RAISE EXCEPTION 'only a signed-in request may add editions' USING ERRCODE = '42501';
  END IF;
  INSERT INTO public.editions (isbn)
  SELECT x FROM pg_catalog.unnest(p_isbns) x
  WHERE x IS NOT NULL AND NOT EXISTS (SELECT FROM public.editions e WHERE e.isbn = x)
  ORDER BY x
  ON CONFLICT (isbn) DO NOTHING;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  RETURN v_n;
END
$$;
REVOKE EXECUTE ON FUNCTION huey.ensure_bare_editions(text[]) FROM huey_definer;

-- ---------------------------------------------------------------------------
-- What huey_definer may write for the staff doors, only under staff claims.
GRANT INSERT ON public.schools, public.educators, public.school_admins, public.service_accounts,
  public.service_account_school_association TO huey_definer;
GRANT UPDATE (name, info, updated_at) ON public.schools TO huey_definer;
GRANT UPDATE (is_active) ON public.users TO huey_definer;
GRANT UPDATE (is_active, updated_at) ON public.service_accounts TO huey_definer;
GRANT USAGE ON SEQUENCE public.schools_id_seq TO huey_definer;
GRANT SELECT ON public.countries TO huey_definer; -- reference data: onboarding names a known country
CREATE POLICY countries_select_definer ON public.countries FOR SELECT TO huey_definer USING (true);
CREATE POLICY schools_insert_definer_staff ON public.schools FOR INSERT TO huey_definer
  WITH CHECK ((SELECT huey.kind()) = 'staff');
CREATE POLICY schools_update_definer_staff ON public.schools FOR UPDATE TO huey_definer
  USING ((SELECT huey.kind()) = 'staff') WITH CHECK ((SELECT huey.kind()) = 'staff');
CREATE POLICY users_insert_definer_staff ON public.users FOR INSERT TO huey_definer
  WITH CHECK ((SELECT huey.kind()) = 'staff' AND type = 'SCHOOL_ADMIN');
CREATE POLICY educators_insert_definer_staff ON public.educators FOR INSERT TO huey_definer
  WITH CHECK ((SELECT huey.kind()) = 'staff');
CREATE POLICY school_admins_insert_definer_staff ON public.school_admins FOR INSERT TO huey_definer
  WITH CHECK ((SELECT huey.kind()) = 'staff');
CREATE POLICY service_accounts_insert_definer_staff ON public.service_accounts FOR INSERT TO huey_definer
  WITH CHECK ((SELECT huey.kind()) = 'staff' AND type = 'LMS');
CREATE POLICY service_accounts_update_definer_staff ON public.service_accounts FOR UPDATE TO huey_definer
  USING ((SELECT huey.kind()) = 'staff') WITH CHECK ((SELECT huey.kind()) = 'staff');
CREATE POLICY service_account_school_association_insert_definer_staff ON public.service_account_school_association
  FOR INSERT TO huey_definer WITH CHECK ((SELECT huey.kind()) = 'staff');

-- ---------------------------------------------------------------------------
-- The doors.

-- The audit trail: every staff write records one event, "Staff: <script>",
-- with who (the OS user or STAFF_ACTOR), the login, and the script's counts.
-- Admins read it in GET /v1/events.
CREATE FUNCTION huey.staff_record_event(p_script text, p_actor text, p_description text,
  p_school_id integer, p_info jsonb) RETURNS uuid
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF huey.kind() IS DISTINCT FROM 'staff' THEN
    RAISE EXCEPTION 'only staff scripts record staff events' USING ERRCODE = '42501';
  END IF;
  IF coalesce(p_script, '') = '' OR coalesce(p_actor, '') = '' THEN
    RAISE EXCEPTION 'a staff event names its script and its actor' USING ERRCODE = '22023';
  END IF;
  RETURN huey.record_event('Staff: ' || p_script, p_description, 'NORMAL', p_school_id, NULL, NULL,
    coalesce(p_info, '{}'::jsonb) || jsonb_build_object('staff_script', p_script, 'staff_actor', p_actor,
      'staff_login', session_user::text));
END
$$;

-- onboard-school: create or update a school found by (country, official
-- identifier) — name and location only, never its state once it exists —,
-- create its school admin (an existing account is never changed: one that is
-- not already this school's admin is refused), and optionally an LMS service
-- account linked to it. Each part reports created, updated or unchanged.
CREATE FUNCTION huey.staff_onboard_school(p_country text, p_official_id text, p_name text, p_location jsonb,
  p_admin_email text, p_admin_name text, p_lms boolean)
RETURNS TABLE (school_id integer, school_wid uuid, school_change text, admin_id uuid, admin_change text,
  lms_id uuid, lms_change text)
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  s public.schools%ROWTYPE;
  v_info jsonb;
  v_user record;
BEGIN
  IF huey.kind() IS DISTINCT FROM 'staff' THEN
    RAISE EXCEPTION 'only staff scripts onboard schools' USING ERRCODE = '42501';
  END IF;
  IF coalesce(p_country, '') = '' OR coalesce(p_official_id, '') = '' OR coalesce(p_name, '') = '' THEN
    RAISE EXCEPTION 'a school needs a country, an official identifier and a name' USING ERRCODE = '22023';
  END IF;
  IF NOT EXISTS (SELECT FROM public.countries c WHERE c.id = p_country) THEN
    RAISE EXCEPTION 'unknown country code %', p_country USING ERRCODE = '22023';
  END IF;
  SELECT * INTO s FROM public.schools x
  WHERE x.country_code = p_country AND x.official_identifier = p_official_id FOR UPDATE;
  IF NOT FOUND THEN
    INSERT INTO public.schools (country_code, official_identifier, state, name, info, created_at, updated_at)
    VALUES (p_country, p_official_id, 'ACTIVE', p_name,
            jsonb_build_object('location', coalesce(p_location, '{}'::jsonb)), huey.utcnow(), huey.utcnow())
    RETURNING * INTO s;
    school_change := 'created';
  ELSE
    v_info := coalesce(s.info, '{}'::jsonb)
      || CASE WHEN p_location IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('location', p_location) END;
    IF s.name = p_name AND v_info = coalesce(s.info, '{}'::jsonb) THEN
      school_change := 'unchanged';
    ELSE
      UPDATE public.schools x SET name = p_name, info = v_info, updated_at = huey.utcnow() WHERE x.id = s.id;
      school_change := 'updated';
    END IF;
  END IF;
  school_id := s.id;
  school_wid := s.wriveted_identifier;

  IF coalesce(p_admin_email, '') <> '' THEN
    SELECT u.id, u.type::text AS type, e.school_id AS edu_school, (a.id IS NOT NULL) AS is_admin INTO v_user
    FROM public.users u
    LEFT JOIN public.educators e ON e.id = u.id
    LEFT JOIN public.school_admins a ON a.id = u.id
    WHERE u.email = p_admin_email;
    IF NOT FOUND THEN
      admin_id := gen_random_uuid();
      INSERT INTO public.users (id, is_active, email, name, info, created_at, updated_at, type, newsletter)
      VALUES (admin_id, true, p_admin_email, coalesce(nullif(p_admin_name, ''), p_admin_email),
              '{"sign_in_provider": "onboard-school"}', huey.utcnow(), huey.utcnow(), 'SCHOOL_ADMIN', false);
      INSERT INTO public.educators (id, school_id, educator_info) VALUES (admin_id, s.id, '{}');
      INSERT INTO public.school_admins (id, school_admin_info) VALUES (admin_id, '{}');
      admin_change := 'created';
    ELSIF v_user.type = 'SCHOOL_ADMIN' AND v_user.is_admin AND v_user.edu_school = s.id THEN
      admin_id := v_user.id;
      admin_change := 'unchanged';
    ELSE
      RAISE EXCEPTION 'the account % exists and is not a school admin of this school; onboarding changes no existing account',
        p_admin_email USING ERRCODE = '42501';
    END IF;
  END IF;

  IF p_lms THEN
    SELECT a.id INTO lms_id FROM public.service_accounts a
    JOIN public.service_account_school_association l ON l.service_account_id = a.id
    WHERE l.school_id = s.id AND a.type = 'LMS' ORDER BY a.created_at, a.id LIMIT 1;
    IF FOUND THEN
      lms_change := 'unchanged';
    ELSE
      lms_id := gen_random_uuid();
      INSERT INTO public.service_accounts (id, name, is_active, type, info, created_at, updated_at)
      VALUES (lms_id, left(s.name, 200) || ' LMS', true, 'LMS', '{}', huey.utcnow(), huey.utcnow());
      INSERT INTO public.service_account_school_association (service_account_id, school_id) VALUES (lms_id, s.id);
      lms_change := 'created';
    END IF;
  END IF;
  RETURN NEXT;
END
$$;

-- deactivate-account: one user (by e-mail) or service account (by id) made
-- inactive. Wriveted admins and backend service accounts (the admin
-- principal) are not this job's: refused.
CREATE FUNCTION huey.staff_deactivate_account(p_email text, p_service_account uuid)
RETURNS TABLE (id uuid, account_type text, was_active boolean)
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  v_id uuid;
  v_type text;
  v_active boolean;
BEGIN
  IF huey.kind() IS DISTINCT FROM 'staff' THEN
    RAISE EXCEPTION 'only staff scripts deactivate accounts' USING ERRCODE = '42501';
  END IF;
  IF (coalesce(p_email, '') = '') = (p_service_account IS NULL) THEN
    RAISE EXCEPTION 'name exactly one account: an e-mail or a service account id' USING ERRCODE = '22023';
  END IF;
  IF p_email <> '' THEN
    SELECT u.id, u.type::text, u.is_active INTO v_id, v_type, v_active FROM public.users u WHERE u.email = p_email FOR UPDATE;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'no account with e-mail %', p_email USING ERRCODE = 'P0002';
    END IF;
    IF v_type = 'WRIVETED' THEN
      RAISE EXCEPTION 'a Wriveted admin is not deactivated by a staff script' USING ERRCODE = '42501';
    END IF;
    IF v_active THEN
      UPDATE public.users u SET is_active = false, updated_at = huey.utcnow() WHERE u.id = v_id;
    END IF;
  ELSE
    SELECT a.id, a.type::text, a.is_active INTO v_id, v_type, v_active FROM public.service_accounts a
    WHERE a.id = p_service_account FOR UPDATE;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'no service account %', p_service_account USING ERRCODE = 'P0002';
    END IF;
    IF v_type = 'BACKEND' THEN
      RAISE EXCEPTION 'a backend service account is not deactivated by a staff script' USING ERRCODE = '42501';
    END IF;
    IF v_active THEN
      UPDATE public.service_accounts a SET is_active = false, updated_at = huey.utcnow() WHERE a.id = v_id;
    END IF;
  END IF;
  RETURN QUERY SELECT v_id, v_type, v_active;
END
$$;

-- export-collection: one school's collection as rows, nothing else.
CREATE FUNCTION huey.staff_collection_export(p_school uuid)
RETURNS TABLE (isbn text, title text, copies_total integer, copies_available integer)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF huey.kind() IS DISTINCT FROM 'staff' THEN
    RAISE EXCEPTION 'only staff scripts export collections' USING ERRCODE = '42501';
  END IF;
  IF NOT EXISTS (SELECT FROM public.schools s WHERE s.wriveted_identifier = p_school) THEN
    RAISE EXCEPTION 'no school %', p_school USING ERRCODE = 'P0002';
  END IF;
  RETURN QUERY
  SELECT i.edition_isbn::text, coalesce(e.edition_title, w.title, i.info ->> 'title')::text, i.copies_total, i.copies_available
  FROM public.collections c
  JOIN public.collection_items i ON i.collection_id = c.id
  LEFT JOIN public.editions e ON e.isbn = i.edition_isbn
  LEFT JOIN public.works w ON w.id = e.work_id
  WHERE c.school_id = p_school
  ORDER BY i.sort_title NULLS LAST, i.id;
END
$$;

-- import-collection: queue hydrate-bulk tasks (500 ISBNs each) for those of
-- the ISBNs whose editions are not hydrated yet. Returns the tasks queued.
CREATE FUNCTION huey.staff_queue_hydration(p_isbns text[]) RETURNS integer
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_n integer;
BEGIN
  IF huey.kind() IS DISTINCT FROM 'staff' THEN
    RAISE EXCEPTION 'only staff scripts queue hydration here' USING ERRCODE = '42501';
  END IF;
  INSERT INTO public.task_queue (kind, payload)
  SELECT 'hydrate-bulk', pg_catalog.jsonb_agg(t.isbn ORDER BY t.isbn)
  FROM (SELECT d.isbn, (pg_catalog.row_number() OVER (ORDER BY d.isbn) - 1) / 500 AS g
        FROM (SELECT DISTINCT e.isbn::text AS isbn FROM public.editions e
              WHERE e.isbn = ANY (p_isbns) AND e.hydrated_at IS NULL) d) t
  GROUP BY t.g;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  RETURN v_n;
END
$$;

GRANT CREATE ON SCHEMA huey TO huey_definer;
ALTER FUNCTION huey.staff_record_event(text, text, text, integer, jsonb) OWNER TO huey_definer;
ALTER FUNCTION huey.staff_onboard_school(text, text, text, jsonb, text, text, boolean) OWNER TO huey_definer;
ALTER FUNCTION huey.staff_deactivate_account(text, uuid) OWNER TO huey_definer;
ALTER FUNCTION huey.staff_collection_export(uuid) OWNER TO huey_definer;
ALTER FUNCTION huey.staff_queue_hydration(text[]) OWNER TO huey_definer;
REVOKE CREATE ON SCHEMA huey FROM huey_definer;
REVOKE EXECUTE ON FUNCTION huey.staff_record_event(text, text, text, integer, jsonb),
  huey.staff_onboard_school(text, text, text, jsonb, text, text, boolean),
  huey.staff_deactivate_account(text, uuid), huey.staff_collection_export(uuid),
  huey.staff_queue_hydration(text[]) FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- Grants per job.

-- onboard-school
GRANT EXECUTE ON FUNCTION huey.staff_onboard_school(text, text, text, jsonb, text, text, boolean),
  huey.staff_record_event(text, text, text, integer, jsonb) TO huey_job_onboard_school;

-- deactivate-account
GRANT EXECUTE ON FUNCTION huey.staff_deactivate_account(text, uuid),
  huey.staff_record_event(text, text, text, integer, jsonb) TO huey_job_deactivate_account;

-- export-collection
GRANT EXECUTE ON FUNCTION huey.staff_collection_export(uuid) TO huey_job_export_collection;

-- import-collection: the LMS batch path's statements (schema/collection) on
-- the one school named by the claims' staff-school principal.
GRANT EXECUTE ON FUNCTION huey.claims(), huey.kind(), huey.staff_school(), huey.utcnow(),
  huey.jsonb_merge_deep(jsonb, jsonb), huey.school_attrs(uuid), huey.ensure_bare_editions(text[]),
  huey.staff_queue_hydration(text[]), huey.staff_record_event(text, text, text, integer, jsonb)
  TO huey_job_import_collection;
GRANT SELECT ON public.editions TO huey_job_import_collection;
GRANT SELECT ON public.collections TO huey_job_import_collection;
GRANT INSERT (id, school_id, name, info, created_at, updated_at) ON public.collections TO huey_job_import_collection;
GRANT UPDATE (updated_at) ON public.collections TO huey_job_import_collection;
GRANT SELECT, INSERT ON public.collection_items TO huey_job_import_collection;
GRANT UPDATE (copies_total, copies_available, info, updated_at) ON public.collection_items TO huey_job_import_collection;
GRANT USAGE ON SEQUENCE public.collection_items_id_seq TO huey_job_import_collection;
CREATE POLICY editions_select_import ON public.editions FOR SELECT TO huey_job_import_collection USING (true);
CREATE POLICY collections_select_import ON public.collections FOR SELECT TO huey_job_import_collection
  USING (school_id = (SELECT huey.staff_school()));
CREATE POLICY collections_insert_import ON public.collections FOR INSERT TO huey_job_import_collection
  WITH CHECK (school_id = (SELECT huey.staff_school()) AND user_id IS NULL);
CREATE POLICY collections_update_import ON public.collections FOR UPDATE TO huey_job_import_collection
  USING (school_id = (SELECT huey.staff_school())) WITH CHECK (school_id = (SELECT huey.staff_school()));
CREATE POLICY collection_items_select_import ON public.collection_items FOR SELECT TO huey_job_import_collection
  USING (collection_id IN (SELECT c.id FROM public.collections c WHERE c.school_id = (SELECT huey.staff_school())));
CREATE POLICY collection_items_insert_import ON public.collection_items FOR INSERT TO huey_job_import_collection
  WITH CHECK (collection_id IN (SELECT c.id FROM public.collections c WHERE c.school_id = (SELECT huey.staff_school())));
CREATE POLICY collection_items_update_import ON public.collection_items FOR UPDATE TO huey_job_import_collection
  USING (collection_id IN (SELECT c.id FROM public.collections c WHERE c.school_id = (SELECT huey.staff_school())))
  WITH CHECK (collection_id IN (SELECT c.id FROM public.collections c WHERE c.school_id = (SELECT huey.staff_school())));

-- import-books and get-auth-token -create-admin write as huey_staff_rw itself
-- and record their event through the same door.
GRANT EXECUTE ON FUNCTION huey.staff_record_event(text, text, text, integer, jsonb) TO huey_staff_rw;

-- Two trigger functions kept PUBLIC's default EXECUTE (a trigger's function
-- is checked at CREATE TRIGGER, not when it fires): no role needs to call them.
REVOKE EXECUTE ON FUNCTION huey.guard_privileged_account_change(), huey.update_collections_statement() FROM PUBLIC;
