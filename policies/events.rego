# Package huey.resource.events is the route-level ACL of the event routes (POST /events,
# GET /events, GET /event-types; api.md §2.13). input.resource.id is "".
#   create             POST /events
#   read               GET /events filtered by a school or a user, GET /event-types
#   read-global        GET /events without a school or user filter (the original's role:admin test)
#   attach-any-school  attach a created event to a school the caller may not read: the original's
#                      role:kiosk bypass, kept for compatibility (F17: a kiosk may attach events to
#                      any school; which titles it may trigger processing with is not restricted).
# Which events a caller then reads is row security's (the event ACL, filtered before paging, F14).
package huey.resource.events

# The first entry whose permission (or All) and principal match decides; no match denies.
decision := "allow" if {
	# 1. Allow role:admin All.
	input.principals["role:admin"]
} else := "allow" if {
	# 2. Allow role:kiosk attach-any-school (F17, kept).
	input.action == "attach-any-school"
	input.principals["role:kiosk"]
} else := "allow" if {
	# 3. Allow system:authenticated create, read.
	input.action in {"create", "read"}
	input.principals["system:authenticated"]
} else := "deny"
