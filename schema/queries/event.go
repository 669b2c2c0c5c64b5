package queries

import "strconv"

// eventList pages the events row security lets the caller read (F14:
// filtered before paging), then looks up what EventDetail shows of them. The
// look-ups are LATERAL … LIMIT 1 so that they stay index probes per row of
// the page (a plain join lets the planner hash the whole users table under
// its row policies). Not a sqlc query: the WHERE (a Filter) and the page sit
// inside the CTE, where Filter.Page cannot put them, and sqlc types the
// outer-joined LATERAL columns as NOT NULL.
const eventListHead = `
WITH page AS (
  SELECT e.id, e.title, e.level, e."timestamp", e.info, e.school_id, e.user_id, e.service_account_id
  FROM events e
  `

const eventListTail = `)
SELECT p.title, coalesce(p.info ->> 'description', ''), p.level::text, p."timestamp", p.info,
       s.wriveted_identifier, s.name, u.id, u.type::text, u.name, sa.id, sa.name, sa.type::text, sa.is_active
FROM page p
LEFT JOIN LATERAL (SELECT s.wriveted_identifier, s.name FROM schools s WHERE s.id = p.school_id LIMIT 1) s ON true
LEFT JOIN LATERAL (SELECT u.id, u.type, u.name FROM users u WHERE u.id = p.user_id LIMIT 1) u ON true
LEFT JOIN LATERAL (SELECT sa.id, sa.name, sa.type, sa.is_active FROM service_accounts sa
                   WHERE sa.id = p.service_account_id LIMIT 1) sa ON true
ORDER BY p."timestamp" DESC, p.id DESC`

// EventList is GET /events' query: the events f keeps (conditions on
// "events e"), newest first, skip and limit of them, with their school, user
// and service account; and its parameters in order.
func EventList(f *Filter, skip, limit int) (string, []any) {
	args := append(append([]any{}, f.Args()...), skip, limit)
	n := len(args)
	return eventListHead + f.Where() + `
  ORDER BY e."timestamp" DESC, e.id DESC
  OFFSET $` + strconv.Itoa(n-1) + ` LIMIT $` + strconv.Itoa(n) + eventListTail, args
}
