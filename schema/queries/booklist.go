package queries

// A list's moved, changed and new items are written set-based from parallel
// arrays: works $2, orders $3, infos $4 (text) of list $1. Not in
// booklist.sql: sqlc v1.31.1 rejects a multi-array unnest ("function
// unnest(unknown, unknown, unknown) does not exist").

// UpdateBooklistWorks stores the moved or changed items.
const UpdateBooklistWorks = `
			UPDATE public.book_list_works bw SET order_id = x.o, info = x.i::json
			FROM unnest($2::int[], $3::int[], $4::text[]) AS x(w, o, i)
			WHERE bw.booklist_id = $1 AND bw.work_id = x.w`

// InsertBooklistWorks adds the new items.
const InsertBooklistWorks = `
			INSERT INTO public.book_list_works (booklist_id, work_id, order_id, info, created_at)
			SELECT $1, x.w, x.o, x.i::json, huey.utcnow() FROM unnest($2::int[], $3::int[], $4::text[]) AS x(w, o, i)`
