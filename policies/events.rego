# Package huey.resource.events is the route-level ACL of the event routes (POST /events,
# GET /events, GET /event-types; api.md §2.13). input.resource.id is "".
#   create             POST /events
#   read               GET /events filtered by a school or a user, GET /event-types
#   read-global        GET /events without a school or user filter (the original's role:admin test)
#   attach-school      attach a created event to a school the caller may not read (attrs.school_id):
#                      a kiosk, for the schools it is linked to only (kiosk:<id>; R10 closes F17's
#                      "any school" bypass of the original).
# Which events a caller then reads is row security's (the event ACL, filtered before paging, F14).
package huey.resource.events

# The first entry whose permission (or All) and principal match decides; no match denies.
decision := "allow" if {
	# 1. Allow role:admin All.
	input.principals["role:admin"]
} else := "allow" if {
	# 2. Allow kiosk:{school_id} attach-school (a kiosk, for its linked schools; R10).
	input.action == "attach-school"
	input.principals[sprintf("kiosk:%s", [input.resource.attrs.school_id])]
} else := "allow" if {
	# 3. Allow system:authenticated create, read.
	input.action in {"create", "read"}
	input.principals["system:authenticated"]
} else := "deny"
