-- The catalogue: who reads and writes authors, illustrators, series, works,
-- editions, their links and the labels (domain.md §6, §7; api.md §2.7–§2.10).
--
-- DECISIONS.md §5 F8: create and patch editions and works: admins, educators,
-- school admins, LMS and school service accounts; delete works: admins only;
-- everyone else is refused. The policy layer refuses first (403); these
-- policies make the same rule hold for any statement huey_app runs:
--   * every signed-in account (kind user or service_account) reads the
--     catalogue; anonymous requests and requests without claims read nothing;
--   * callers holding role:admin, role:educator (school admins hold it too),
--     role:lms or role:school insert and update every catalogue table, and
--     delete link rows (relinking authors, illustrators, series, hues and
--     reading abilities);
--   * nobody but admins deletes authors, illustrators, series, works, editions
--     or labelsets (the <table>_delete_admin policies of the spine);
--   * staff scripts: huey_staff_ro reads; huey_staff_rw (the catalogue importer)
--     reads, inserts, updates and relinks, and deletes no works.
-- Reference tables (hues, reading_abilities) are readable by every role of ours
-- since the roles migration.
--
-- search_view_v1 is refreshed through huey.refresh_search_view(), a SECURITY
-- DEFINER function owned by huey_owner (a refresh needs ownership; DECISIONS §2).
-- FORCE ROW LEVEL SECURITY binds the owner too, so huey_owner gets SELECT
-- policies on exactly the tables the view reads.

-- ---------------------------------------------------------------------------
-- Helper, SECURITY INVOKER and inlinable (see the spine): the caller may write
-- the catalogue (F8).
CREATE FUNCTION huey.is_catalogue_editor() RETURNS boolean
  LANGUAGE sql STABLE
AS $$
  SELECT huey.is_authenticated()
     AND coalesce(huey.claims() -> 'principals' ?| ARRAY['role:admin', 'role:educator', 'role:lms', 'role:school'], false)
$$;
ALTER FUNCTION huey.is_catalogue_editor() OWNER TO huey_owner;
REVOKE EXECUTE ON FUNCTION huey.is_catalogue_editor() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION huey.is_catalogue_editor() TO huey_app, huey_staff_ro, huey_staff_rw, huey_definer;

-- ---------------------------------------------------------------------------
-- Policies, one per command and caller, named <table>_<command>_<who>:
--   <t>_select_authenticated  huey_app, every signed-in account
--   <t>_insert_editor         huey_app, huey.is_catalogue_editor()
--   <t>_update_editor         huey_app, huey.is_catalogue_editor()
--   <t>_delete_editor         huey_app, huey.is_catalogue_editor(); link tables only
--   <t>_select_staff          huey_staff_ro, huey_staff_rw
--   <t>_insert_staff          huey_staff_rw
--   <t>_update_staff          huey_staff_rw
--   <t>_delete_staff          huey_staff_rw; link tables only
DO $$
DECLARE
  t text;
  links text[] := ARRAY['author_work_association', 'illustrator_edition_association',
    'series_works_association', 'labelset_hue_association', 'labelset_reading_ability_association'];
BEGIN
  FOREACH t IN ARRAY ARRAY['authors', 'illustrators', 'series', 'works', 'editions', 'labelsets'] || links
  LOOP
    EXECUTE format('CREATE POLICY %I ON public.%I FOR SELECT TO huey_app USING ((SELECT huey.is_authenticated()))',
                   t || '_select_authenticated', t);
    EXECUTE format('CREATE POLICY %I ON public.%I FOR INSERT TO huey_app WITH CHECK ((SELECT huey.is_catalogue_editor()))',
                   t || '_insert_editor', t);
    EXECUTE format('CREATE POLICY %I ON public.%I FOR UPDATE TO huey_app USING ((SELECT huey.is_catalogue_editor())) '
                   || 'WITH CHECK ((SELECT huey.is_catalogue_editor()))', t || '_update_editor', t);
    EXECUTE format('CREATE POLICY %I ON public.%I FOR SELECT TO huey_staff_ro, huey_staff_rw USING (true)',
                   t || '_select_staff', t);
    EXECUTE format('CREATE POLICY %I ON public.%I FOR INSERT TO huey_staff_rw WITH CHECK (true)',
                   t || '_insert_staff', t);
    EXECUTE format('CREATE POLICY %I ON public.%I FOR UPDATE TO huey_staff_rw USING (true) WITH CHECK (true)',
                   t || '_update_staff', t);
    IF t = ANY (links) THEN
      EXECUTE format('CREATE POLICY %I ON public.%I FOR DELETE TO huey_app USING ((SELECT huey.is_catalogue_editor()))',
                     t || '_delete_editor', t);
      EXECUTE format('CREATE POLICY %I ON public.%I FOR DELETE TO huey_staff_rw USING (true)',
                     t || '_delete_staff', t);
    END IF;
  END LOOP;
END
$$;

-- ---------------------------------------------------------------------------
-- Refreshing the search view (tasks.md §5.3; the importer after a load).
-- Only an admin request (role:admin: wriveted admins, backend service accounts,
-- the task server acting as one) or a staff script (claims kind "staff") may
-- run it: a refresh is expensive, and nothing a signed-in reader does needs it.

CREATE POLICY works_select_owner ON public.works FOR SELECT TO huey_owner USING (true);
CREATE POLICY authors_select_owner ON public.authors FOR SELECT TO huey_owner USING (true);
CREATE POLICY author_work_association_select_owner ON public.author_work_association
  FOR SELECT TO huey_owner USING (true);
CREATE POLICY series_select_owner ON public.series FOR SELECT TO huey_owner USING (true);
CREATE POLICY series_works_association_select_owner ON public.series_works_association
  FOR SELECT TO huey_owner USING (true);

CREATE FUNCTION huey.refresh_search_view() RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF NOT (huey.is_admin() OR coalesce(huey.kind() = 'staff', false)) THEN
    RAISE EXCEPTION 'only an admin or a staff script may refresh the search view' USING ERRCODE = '42501';
  END IF;
  REFRESH MATERIALIZED VIEW public.search_view_v1;
END
$$;
ALTER FUNCTION huey.refresh_search_view() OWNER TO huey_owner;
REVOKE EXECUTE ON FUNCTION huey.refresh_search_view() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION huey.refresh_search_view() TO huey_app, huey_staff_rw;

-- ---------------------------------------------------------------------------
-- Recommendations and search (api.md §2.15–§2.16).

-- work_collection_frequency is refreshed as its owner; FORCE RLS binds the
-- owner too, so it needs to read the editions and items the view sums.
CREATE POLICY editions_select_owner ON public.editions FOR SELECT TO huey_owner USING (true);
CREATE POLICY collection_items_select_owner ON public.collection_items FOR SELECT TO huey_owner USING (true);

CREATE FUNCTION huey.refresh_work_collection_frequency() RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF NOT (huey.is_admin() OR coalesce(huey.kind() = 'staff', false)) THEN
    RAISE EXCEPTION 'only an admin or a staff script may refresh the collection frequencies' USING ERRCODE = '42501';
  END IF;
  REFRESH MATERIALIZED VIEW public.work_collection_frequency;
END
$$;
ALTER FUNCTION huey.refresh_work_collection_frequency() OWNER TO huey_owner;
REVOKE EXECUTE ON FUNCTION huey.refresh_work_collection_frequency() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION huey.refresh_work_collection_frequency() TO huey_app, huey_staff_rw;

-- F9: recommend narrows to a school's collection only when the caller may read
-- that school (the school policy's read rule, repeated here as a second check);
-- the school's students and educators may recommend from it without reading
-- the collection itself, so the ISBNs come through this narrow door.
GRANT SELECT ON public.collections, public.collection_items TO huey_definer;
CREATE POLICY collections_select_definer ON public.collections FOR SELECT TO huey_definer USING (true);
CREATE POLICY collection_items_select_definer ON public.collection_items FOR SELECT TO huey_definer USING (true);

-- The ISBNs of a school's collection (its first, as schools have one), NULL
-- when the school has none; only for a caller who may read the school (the
-- read rule of policies/school.rego: admins, the school's school admins,
-- educators, students and linked service accounts).
CREATE FUNCTION huey.school_collection_isbns(p_school_id integer) RETURNS text[]
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_collection uuid;
BEGIN
  IF NOT (huey.is_admin()
          OR p_school_id = ANY (huey.principal_ids('schooladmin:') || huey.principal_ids('school:')
                                || huey.principal_ids('educator:') || huey.principal_ids('student:'))) THEN
    RAISE EXCEPTION 'the caller may not read school %', p_school_id USING ERRCODE = '42501';
  END IF;
  SELECT c.id INTO v_collection
  FROM public.collections c JOIN public.schools s ON s.wriveted_identifier = c.school_id
  WHERE s.id = p_school_id ORDER BY c.created_at, c.id LIMIT 1;
  IF v_collection IS NULL THEN
    RETURN NULL;
  END IF;
  RETURN ARRAY(SELECT i.edition_isbn FROM public.collection_items i
               WHERE i.collection_id = v_collection AND i.edition_isbn IS NOT NULL);
END
$$;
GRANT CREATE ON SCHEMA huey TO huey_definer;
ALTER FUNCTION huey.school_collection_isbns(integer) OWNER TO huey_definer;
REVOKE CREATE ON SCHEMA huey FROM huey_definer;
REVOKE EXECUTE ON FUNCTION huey.school_collection_isbns(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION huey.school_collection_isbns(integer) TO huey_app;
