# Package huey.resource.schools is the route-level ACL of GET /schools, POST /schools and
# POST /school (spec/access.md §7.1), with F4 (LMS cannot create schools) and F2 (no global
# role:lms / role:library grants) fixed. input.resource.id is "".
package huey.resource.schools

# The first entry whose permission (or All) and principal match decides; no match denies.
decision := "deny" if {
	# 1. Deny role:lms create (F4: moved before the allow that made it unreachable).
	input.action == "create"
	input.principals["role:lms"]
} else := "deny" if {
	# 2. Deny role:lms batch.
	input.action == "batch"
	input.principals["role:lms"]
} else := "allow" if {
	# 3. Allow system:authenticated read.
	input.action == "read"
	input.principals["system:authenticated"]
} else := "allow" if {
	# 4. Allow system:authenticated create (onboarding: a new school starts inactive).
	input.action == "create"
	input.principals["system:authenticated"]
} else := "allow" if {
	# 5. Allow role:admin batch, details, read-collection.
	input.action in {"batch", "details", "read-collection"}
	input.principals["role:admin"]
} else := "deny"
