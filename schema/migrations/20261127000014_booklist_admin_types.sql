-- Issue 12 R8 (the F3 rule, for change and delete): Huey, Regional and Other
-- lists are the admins' (the spine's book_lists_*_admin policies), whatever
-- school they carry. A school's educators and linked service accounts could
-- delete such a list when it carried their school's id (PATCH was already
-- refused by the WITH CHECK of 007); now neither the list nor its items can be
-- changed or deleted by them. policies/booklist.rego refuses first (entry 4a).

DROP POLICY book_lists_update_managers ON public.book_lists;
CREATE POLICY book_lists_update_managers ON public.book_lists FOR UPDATE TO huey_app
  USING (type IN ('PERSONAL', 'SCHOOL') AND huey.manages_booklist(user_id, school_id))
  WITH CHECK (huey.manages_booklist(user_id, school_id) AND type IN ('PERSONAL', 'SCHOOL') AND slug IS NULL);
DROP POLICY book_lists_delete_managers ON public.book_lists;
CREATE POLICY book_lists_delete_managers ON public.book_lists FOR DELETE TO huey_app
  USING (type IN ('PERSONAL', 'SCHOOL') AND huey.manages_booklist(user_id, school_id));

DROP POLICY book_list_works_insert_managers ON public.book_list_works;
DROP POLICY book_list_works_update_managers ON public.book_list_works;
DROP POLICY book_list_works_delete_managers ON public.book_list_works;
CREATE POLICY book_list_works_insert_managers ON public.book_list_works FOR INSERT TO huey_app
  WITH CHECK (booklist_id IN (SELECT b.id FROM public.book_lists b
                              WHERE b.type IN ('PERSONAL', 'SCHOOL') AND huey.manages_booklist(b.user_id, b.school_id)));
CREATE POLICY book_list_works_update_managers ON public.book_list_works FOR UPDATE TO huey_app
  USING (booklist_id IN (SELECT b.id FROM public.book_lists b
                         WHERE b.type IN ('PERSONAL', 'SCHOOL') AND huey.manages_booklist(b.user_id, b.school_id)))
  WITH CHECK (booklist_id IN (SELECT b.id FROM public.book_lists b
                              WHERE b.type IN ('PERSONAL', 'SCHOOL') AND huey.manages_booklist(b.user_id, b.school_id)));
CREATE POLICY book_list_works_delete_managers ON public.book_list_works FOR DELETE TO huey_app
  USING (booklist_id IN (SELECT b.id FROM public.book_lists b
                         WHERE b.type IN ('PERSONAL', 'SCHOOL') AND huey.manages_booklist(b.user_id, b.school_id)));
