-- Issue 12 R9: a student's username is unique in its school ignoring case.
-- Sign-in with a class code looks the username up case-insensitively
-- (huey.class_code_login), so a classmate who took a case variant ("ALICE"
-- beside "alice") was signed in for the other. The index below makes a
-- case variant a conflict (the API answers 409).
--
-- Existing case-insensitive duplicates are resolved first: in each school,
-- the earliest account keeps its username and each later one gets a numeric
-- suffix (alice → alice2, alice3, …, the first free one). Each renamed
-- student gets an event "Student username changed" (level WARNING, with the
-- school, the student and both names) so the school's staff can tell them.

ALTER TABLE public.students NO FORCE ROW LEVEL SECURITY;
ALTER TABLE public.events NO FORCE ROW LEVEL SECURITY;
DO $$
DECLARE
  r record;
  v_new text;
  n integer;
BEGIN
  FOR r IN
    SELECT st.id, st.school_id, st.username
    FROM (SELECT st.*, row_number() OVER (PARTITION BY st.school_id, lower(st.username)
                                          ORDER BY u.created_at, st.id) AS k
          FROM public.students st JOIN public.users u ON u.id = st.id) st
    WHERE st.k > 1
    ORDER BY st.school_id, lower(st.username), st.k
  LOOP
    n := 2;
    LOOP
      v_new := r.username || n;
      EXIT WHEN NOT EXISTS (SELECT FROM public.students x
                            WHERE x.school_id = r.school_id AND lower(x.username) = lower(v_new));
      n := n + 1;
    END LOOP;
    UPDATE public.students SET username = v_new WHERE id = r.id;
    INSERT INTO public.events (id, title, level, school_id, user_id, info, "timestamp")
    VALUES (gen_random_uuid(), 'Student username changed', 'WARNING', r.school_id, r.id,
            jsonb_build_object('description', 'Username ' || r.username || ' was taken by a classmate (ignoring case); it is now ' || v_new,
                               'old_username', r.username, 'new_username', v_new),
            now() AT TIME ZONE 'UTC');
  END LOOP;
END
$$;
ALTER TABLE public.students FORCE ROW LEVEL SECURITY;
ALTER TABLE public.events FORCE ROW LEVEL SECURITY;

CREATE UNIQUE INDEX uq_students_school_lower_username ON public.students USING btree (school_id, lower(username));
