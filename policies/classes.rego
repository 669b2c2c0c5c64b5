# Package huey.resource.classes is the route-level ACL of GET /classes and
# POST /school/{id}/class (spec/access.md §7.2). input.resource.id is "".
# The original's `Allow role:schooladmin All` is dropped: that principal is never issued, and
# school admins pass through role:educator. Which school a caller may list or add classes to is
# decided afterwards on the school (school.rego), and which classes it sees by row security.
package huey.resource.classes

# The first entry whose permission (or All) and principal match decides; no match denies.
decision := "allow" if {
	# 1. Allow role:admin All.
	input.principals["role:admin"]
} else := "allow" if {
	# 2. Allow role:educator All (educators and school admins).
	input.principals["role:educator"]
} else := "allow" if {
	# 3. Allow role:student read.
	input.action == "read"
	input.principals["role:student"]
} else := "deny"
