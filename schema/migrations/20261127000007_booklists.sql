-- Booklists (api.md §2.12, domain.md §9, access.md §6.6 and §7.4) with F3,
-- F14 and F19 fixed. The policy layer (policies/booklist.rego,
-- policies/booklists.rego) refuses first; these policies make the same rule
-- hold for every statement huey_app runs.
--
-- Who reads a list (access.md §6.6, F19: `sharing` honoured):
--   * admins (book_lists_select_admin, from the spine);
--   * its owner, and the owner's parent (child_ids);
--   * its school's educators and school admins, and service accounts linked to
--     the school (school:<id>, F2);
--   * the school's students, for School lists;
--   * every signed-in account, for Huey and Regional lists whose sharing is
--     `restricted` or `public` (a `private` Huey/Regional list is no longer
--     readable by everyone: F19);
--   * anonymous callers (claims kind "anonymous"), for Huey lists whose
--     sharing is `public`: the lists of GET /v1/public-lists and
--     /v1/public-list/{slug}. This is row security, not a door, so the same
--     queries serve signed-in and anonymous callers. The works on those lists
--     (with their authors, labels and editions) are readable anonymously too,
--     so a public list's items can be shown; nothing else of the catalogue is.
-- Who writes a list: its owner, the owner's parent, its school's educators and
-- school admins, its school's linked service accounts, and admins. Only admins
-- create or keep Huey, Regional and Other lists or give a list a slug (F3: a
-- non-admin cannot turn a list into a public Huey list, whatever it patches).
-- Items follow their list: whoever may write the list writes its items.
--
-- Listing counts only what row security lets the caller read (F14).

-- ---------------------------------------------------------------------------
-- Helper, SECURITY INVOKER and inlinable (see the spine): the caller holds
-- `All` on a list owned by p_user_id / belonging to school p_school_id
-- (access.md §6.6 entries 2-5; admins have their own policies).
CREATE FUNCTION huey.manages_booklist(p_user_id uuid, p_school_id integer) RETURNS boolean
  LANGUAGE sql STABLE
AS $$
  SELECT huey.is_authenticated() AND (
       coalesce(p_user_id = huey.user_id(), false)
    OR coalesce(p_user_id = ANY (huey.child_ids()), false)
    OR coalesce(p_school_id = ANY (huey.principal_ids('educator:') || huey.principal_ids('school:')), false))
$$;
ALTER FUNCTION huey.manages_booklist(uuid, integer) OWNER TO huey_owner;
REVOKE EXECUTE ON FUNCTION huey.manages_booklist(uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION huey.manages_booklist(uuid, integer) TO huey_app, huey_staff_ro, huey_staff_rw, huey_definer;

-- ---------------------------------------------------------------------------
-- book_lists

CREATE POLICY book_lists_select_children ON public.book_lists FOR SELECT TO huey_app
  USING (user_id = ANY ((SELECT huey.child_ids())::uuid[]));
-- F19: Huey and Regional lists are shared with every signed-in account only
-- when their sharing says so.
CREATE POLICY book_lists_select_shared ON public.book_lists FOR SELECT TO huey_app
  USING ((SELECT huey.is_authenticated()) AND type IN ('HUEY', 'REGION') AND sharing IN ('RESTRICTED', 'PUBLIC'));
CREATE POLICY book_lists_select_public ON public.book_lists FOR SELECT TO huey_app
  USING ((SELECT huey.kind()) = 'anonymous' AND type = 'HUEY' AND sharing = 'PUBLIC');

-- Non-admins create Personal lists for themselves and their children (access.md
-- §8: "self; children"), and School lists for schools they manage
-- (`update` on the school: its school admins and linked service accounts).
CREATE POLICY book_lists_insert_personal ON public.book_lists FOR INSERT TO huey_app
  WITH CHECK (type = 'PERSONAL' AND slug IS NULL AND school_id IS NULL AND (
       user_id = (SELECT huey.user_id())
    OR user_id = ANY ((SELECT huey.child_ids())::uuid[])));
CREATE POLICY book_lists_insert_school ON public.book_lists FOR INSERT TO huey_app
  WITH CHECK (type = 'SCHOOL' AND slug IS NULL AND user_id IS NULL
              AND school_id = ANY ((SELECT huey.principal_ids('schooladmin:')) || (SELECT huey.principal_ids('school:'))));
-- F3: a non-admin's list stays Personal or School and without a slug.
CREATE POLICY book_lists_update_managers ON public.book_lists FOR UPDATE TO huey_app
  USING (huey.manages_booklist(user_id, school_id))
  WITH CHECK (huey.manages_booklist(user_id, school_id) AND type IN ('PERSONAL', 'SCHOOL') AND slug IS NULL);
CREATE POLICY book_lists_delete_managers ON public.book_lists FOR DELETE TO huey_app
  USING (huey.manages_booklist(user_id, school_id));

-- ---------------------------------------------------------------------------
-- book_list_works: whoever writes the list writes its items (reads follow the
-- list through book_list_works_select_visible_list).

CREATE POLICY book_list_works_insert_managers ON public.book_list_works FOR INSERT TO huey_app
  WITH CHECK (booklist_id IN (SELECT b.id FROM public.book_lists b WHERE huey.manages_booklist(b.user_id, b.school_id)));
CREATE POLICY book_list_works_update_managers ON public.book_list_works FOR UPDATE TO huey_app
  USING (booklist_id IN (SELECT b.id FROM public.book_lists b WHERE huey.manages_booklist(b.user_id, b.school_id)))
  WITH CHECK (booklist_id IN (SELECT b.id FROM public.book_lists b WHERE huey.manages_booklist(b.user_id, b.school_id)));
CREATE POLICY book_list_works_delete_managers ON public.book_list_works FOR DELETE TO huey_app
  USING (booklist_id IN (SELECT b.id FROM public.book_lists b WHERE huey.manages_booklist(b.user_id, b.school_id)));

-- ---------------------------------------------------------------------------
-- The catalogue rows an anonymous caller needs to show a public list's items
-- (book_list_works is visible to it only for public Huey lists).

CREATE POLICY works_select_public_list ON public.works FOR SELECT TO huey_app
  USING ((SELECT huey.kind()) = 'anonymous' AND id IN (SELECT bw.work_id FROM public.book_list_works bw));
CREATE POLICY author_work_association_select_public_list ON public.author_work_association FOR SELECT TO huey_app
  USING ((SELECT huey.kind()) = 'anonymous' AND work_id IN (SELECT w.id FROM public.works w));
CREATE POLICY authors_select_public_list ON public.authors FOR SELECT TO huey_app
  USING ((SELECT huey.kind()) = 'anonymous' AND id IN (SELECT aw.author_id FROM public.author_work_association aw));
CREATE POLICY labelsets_select_public_list ON public.labelsets FOR SELECT TO huey_app
  USING ((SELECT huey.kind()) = 'anonymous' AND work_id IN (SELECT w.id FROM public.works w));
CREATE POLICY labelset_hue_association_select_public_list ON public.labelset_hue_association FOR SELECT TO huey_app
  USING ((SELECT huey.kind()) = 'anonymous' AND labelset_id IN (SELECT l.id FROM public.labelsets l));
CREATE POLICY labelset_reading_ability_association_select_public_list ON public.labelset_reading_ability_association
  FOR SELECT TO huey_app
  USING ((SELECT huey.kind()) = 'anonymous' AND labelset_id IN (SELECT l.id FROM public.labelsets l));
CREATE POLICY editions_select_public_list ON public.editions FOR SELECT TO huey_app
  USING ((SELECT huey.kind()) = 'anonymous' AND work_id IN (SELECT w.id FROM public.works w));
CREATE POLICY illustrator_edition_association_select_public_list ON public.illustrator_edition_association
  FOR SELECT TO huey_app
  USING ((SELECT huey.kind()) = 'anonymous' AND edition_id IN (SELECT e.id FROM public.editions e));
CREATE POLICY illustrators_select_public_list ON public.illustrators FOR SELECT TO huey_app
  USING ((SELECT huey.kind()) = 'anonymous' AND id IN (SELECT ie.illustrator_id FROM public.illustrator_edition_association ie));

-- ---------------------------------------------------------------------------
-- Narrow SECURITY DEFINER doors for the policy decisions (DECISIONS §4): an
-- existing list the caller may not act on is refused (403), a missing one 404.

GRANT SELECT ON public.book_lists TO huey_definer;
CREATE POLICY book_lists_select_definer ON public.book_lists FOR SELECT TO huey_definer USING (true);

-- The ACL attributes of list p_id: type, sharing, owner and school (integer id).
CREATE FUNCTION huey.booklist_attrs(p_id uuid)
RETURNS TABLE (type text, sharing text, user_id uuid, school_id integer)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT b.type::text, b.sharing::text, b.user_id, b.school_id FROM public.book_lists b WHERE b.id = p_id;
END
$$;

-- Whether the list with slug p_slug exists, is public and is a Huey list
-- (GET /v1/public-list/{slug} answers 404 / 403 from this, never more).
CREATE FUNCTION huey.public_booklist_attrs(p_slug text)
RETURNS TABLE (is_public boolean, is_huey boolean)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT b.sharing = 'PUBLIC', b.type = 'HUEY' FROM public.book_lists b WHERE b.slug = p_slug;
END
$$;

GRANT CREATE ON SCHEMA huey TO huey_definer;
ALTER FUNCTION huey.booklist_attrs(uuid) OWNER TO huey_definer;
ALTER FUNCTION huey.public_booklist_attrs(text) OWNER TO huey_definer;
REVOKE CREATE ON SCHEMA huey FROM huey_definer;
REVOKE EXECUTE ON FUNCTION huey.booklist_attrs(uuid), huey.public_booklist_attrs(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION huey.booklist_attrs(uuid), huey.public_booklist_attrs(text) TO huey_app;
