-- Collection items (api.md §2.11 GET /collection-item/{id}; access.md §6.5
-- with F5 fixed). The F5 policy of 20261127000006
-- (collection_items_select_school_staff) looked the school's collections up
-- through the collections table's own row security, which hides a school
-- collection from its educators (access.md §6.4 gives them nothing on the
-- collection), so the staff never saw an item. The look-up is now a SECURITY
-- DEFINER door: the collections of the schools the caller is staff of
-- (educator:<integer id>; school admins hold it too).

CREATE FUNCTION huey.staff_collection_ids() RETURNS uuid[]
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN ARRAY(SELECT c.id FROM public.collections c
               JOIN public.schools s ON s.wriveted_identifier = c.school_id
               WHERE s.id = ANY (huey.staff_school_ids()));
END
$$;

GRANT CREATE ON SCHEMA huey TO huey_definer;
ALTER FUNCTION huey.staff_collection_ids() OWNER TO huey_definer;
REVOKE CREATE ON SCHEMA huey FROM huey_definer;
REVOKE EXECUTE ON FUNCTION huey.staff_collection_ids() FROM PUBLIC, huey_staff_ro, huey_staff_rw, huey_definer;
GRANT EXECUTE ON FUNCTION huey.staff_collection_ids() TO huey_app;

DROP POLICY collection_items_select_school_staff ON public.collection_items;
CREATE POLICY collection_items_select_school_staff ON public.collection_items FOR SELECT TO huey_app
  USING (collection_id = ANY ((SELECT huey.staff_collection_ids())::uuid[]));

-- Activity rows (access.md §6.5: activity uses its item's ACL) are written
-- by whoever may write the item's collection, for a reader the caller may
-- update: itself, its children, or a student of a school it administers.
-- POST /collection-item-activity (the item ACL: the user collection's owner)
-- and POST /collection/{id}/item with a read_status (the collection ACL) both
-- decide first in policies/; this is their backstop. Admins write through the
-- spine's policies.
CREATE POLICY collection_item_activity_log_insert_writer ON public.collection_item_activity_log
  FOR INSERT TO huey_app
  WITH CHECK ((reader_id = ANY ((SELECT huey.collection_writer_user_ids())::uuid[])
               OR huey.account_school_id(reader_id) = ANY ((SELECT huey.admin_school_ids())::integer[]))
              AND collection_item_id IN (SELECT i.id FROM public.collection_items i
                JOIN public.collections c ON c.id = i.collection_id
                WHERE c.user_id = ANY ((SELECT huey.collection_writer_user_ids())::uuid[])
                   OR c.school_id = ANY ((SELECT huey.school_uuids(huey.collection_writer_school_ids()))::uuid[])));
