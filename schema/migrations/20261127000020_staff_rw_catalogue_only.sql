-- Issue 17: huey_staff_rw kept the writes of every staff job from before
-- the job roles (migration 019): it could insert schools and update any
-- column of any school, its state too, and held write grants on class
-- groups, collections, items, booklists and events. Its own scripts only
-- write the catalogue (import-books) and create Wriveted admins
-- (get-auth-token -create-admin); school, collection and account jobs run as
-- their job roles. What it writes is now exactly that.
DROP POLICY schools_insert_staff ON public.schools;
DROP POLICY schools_update_staff ON public.schools;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON public.schools, public.class_groups, public.collections,
  public.collection_items, public.book_lists, public.book_list_works, public.events FROM huey_staff_rw;
REVOKE ALL ON SEQUENCE public.schools_id_seq, public.collection_items_id_seq FROM huey_staff_rw;
